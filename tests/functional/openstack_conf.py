"""Config files of the cloud stage's OpenStack services (openstack_cloud.py).

Plain functions of a Cloud's names, ports and URLs, one per service; the
services share one MariaDB account, one RabbitMQ vhost and Keystone.
"""

SERVICE_PASSWORD = 'os-service-secret'


def _lines(sections):
    out = []
    for section, opts in sections.items():
        out.append('[%s]' % section)
        out += ['%s = %s' % item for item in opts.items()]
    return '\n'.join(out) + '\n'


def _authtoken(cloud, user):
    return {'www_authenticate_uri': cloud.keystone_url, 'auth_url': cloud.keystone_url,
            'auth_type': 'password', 'username': user, 'password': SERVICE_PASSWORD,
            'project_name': 'service', 'user_domain_name': 'Default',
            'project_domain_name': 'Default', 'region_name': 'RegionOne',
            'memcached_servers': ''}


def _client_auth(cloud, user):
    """A keystoneauth section: ``user`` of the service project."""
    return {'auth_type': 'password', 'auth_url': cloud.keystone_url, 'username': user,
            'password': SERVICE_PASSWORD, 'project_name': 'service',
            'user_domain_name': 'Default', 'project_domain_name': 'Default',
            'region_name': 'RegionOne'}


def _common(cloud, name):
    return {'log_file': cloud.path('%s.log' % name), 'debug': 'false'}


def _lock(cloud, name):
    return {'lock_path': cloud.path('lock-%s' % name)}


def keystone(cloud):
    return _lines({
        'DEFAULT': _common(cloud, 'keystone'),
        'database': {'connection': cloud.db_url('keystone')},
        'token': {'provider': 'fernet'},
        'fernet_tokens': {'key_repository': cloud.path('fernet-keys')},
        'fernet_receipts': {'key_repository': cloud.path('fernet-receipts')},
        'credential': {'key_repository': cloud.path('credential-keys')},
    })


def placement(cloud):
    return _lines({
        'DEFAULT': _common(cloud, 'placement'),
        'placement_database': {'connection': cloud.db_url('placement')},
        'api': {'auth_strategy': 'keystone'},
        'keystone_authtoken': _authtoken(cloud, 'placement'),
    })


def glance(cloud):
    return _lines({
        'DEFAULT': dict(_common(cloud, 'glance'), enabled_backends='fs:file'),
        'database': {'connection': cloud.db_url('glance')},
        'glance_store': {'default_backend': 'fs'},
        'fs': {'filesystem_store_datadir': cloud.path('glance-images')},
        'os_glance_staging_store': {'filesystem_store_datadir': cloud.path('glance-staging')},
        'os_glance_tasks_store': {'filesystem_store_datadir': cloud.path('glance-tasks')},
        'keystone_authtoken': _authtoken(cloud, 'glance'),
        'paste_deploy': {'flavor': 'keystone', 'config_file': cloud.venv_file(
            'glance', 'etc', 'glance', 'glance-api-paste.ini')},
        'oslo_concurrency': _lock(cloud, 'glance'),
    })


def nova(cloud):
    return _lines({
        'DEFAULT': dict(
            _common(cloud, 'nova'), transport_url=cloud.transport_url,
            compute_driver='fake.FakeDriver', host=cloud.compute_host, my_ip='127.0.0.1',
            state_path=cloud.path('nova-state'), instances_path=cloud.path('nova-instances'),
            # One compute host: a resize goes to the same host.
            allow_resize_to_same_host='true',
            vif_plugging_is_fatal='false', vif_plugging_timeout='0'),
        'api': {'auth_strategy': 'keystone'},
        'wsgi': {'api_paste_config': cloud.venv_file('nova', 'etc', 'nova', 'api-paste.ini')},
        'api_database': {'connection': cloud.db_url('nova_api')},
        'database': {'connection': cloud.db_url('nova')},
        'keystone_authtoken': _authtoken(cloud, 'nova'),
        'placement': _client_auth(cloud, 'placement'),
        'neutron': _client_auth(cloud, 'neutron'),
        'cinder': dict(_client_auth(cloud, 'cinder'), os_region_name='RegionOne'),
        'glance': {'region_name': 'RegionOne'},
        'service_user': dict(_client_auth(cloud, 'nova'), send_service_user_token='true'),
        'scheduler': {'discover_hosts_in_cells_interval': '-1', 'workers': '1'},
        'conductor': {'workers': '1'},
        'oslo_concurrency': _lock(cloud, 'nova'),
        'oslo_messaging_notifications': {'driver': 'noop'},
    })


def cinder(cloud):
    return _lines({
        'DEFAULT': dict(
            _common(cloud, 'cinder'), transport_url=cloud.transport_url,
            auth_strategy='keystone', enabled_backends='fake', host=cloud.compute_host,
            my_ip='127.0.0.1', state_path=cloud.path('cinder-state'), osapi_volume_workers='1',
            api_paste_config=cloud.venv_file('cinder', 'etc', 'cinder', 'api-paste.ini')),
        'database': {'connection': cloud.db_url('cinder')},
        'keystone_authtoken': _authtoken(cloud, 'cinder'),
        # No storage behind it: volumes are database rows, exports a fake target.
        'fake': {'volume_driver': 'cinder.tests.fake_driver.FakeLoggingVolumeDriver',
                 'volume_backend_name': 'fake', 'target_helper': 'fake'},
        'nova': _client_auth(cloud, 'nova'),
        'oslo_concurrency': _lock(cloud, 'cinder'),
        'oslo_messaging_notifications': {'driver': 'noop'},
    })


def neutron(cloud):
    return _lines({
        'DEFAULT': dict(
            _common(cloud, 'neutron'), transport_url=cloud.transport_url,
            core_plugin='ml2', service_plugins='', auth_strategy='keystone',
            state_path=cloud.path('neutron-state'), api_workers='0', rpc_workers='0',
            notify_nova_on_port_status_changes='false',
            notify_nova_on_port_data_changes='false',
            api_paste_config=cloud.venv_file('neutron', 'etc', 'neutron', 'api-paste.ini')),
        'database': {'connection': cloud.db_url('neutron')},
        'keystone_authtoken': _authtoken(cloud, 'neutron'),
        'nova': _client_auth(cloud, 'nova'),
        'ml2': {'type_drivers': 'flat', 'tenant_network_types': '',
                'mechanism_drivers': 'trove_bind_all', 'extension_drivers': 'port_security'},
        'ml2_type_flat': {'flat_networks': 'physnet1'},
        'oslo_concurrency': _lock(cloud, 'neutron'),
        'oslo_messaging_notifications': {'driver': 'noop'},
    })


# Neutron's ML2 has no agent here to bind ports: this driver binds every
# port on its first segment and calls it ACTIVE (loaded by entry point).
BIND_ALL = '''
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class BindAll(api.MechanismDriver):
    def initialize(self):
        pass

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OVS,
                                {portbindings.CAP_PORT_FILTER: True}, status='ACTIVE')
            return
'''
BIND_ALL_ENTRY_POINTS = ('[neutron.ml2.mechanism_drivers]\n'
                         'trove_bind_all = trove_bind_all:BindAll\n')
