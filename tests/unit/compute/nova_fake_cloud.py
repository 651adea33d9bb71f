"""An HTTP-level fake of Keystone v3, Nova (2.57), Cinder (v3) and Neutron for requests-mock.

Responses follow the real APIs' shapes (status codes, envelopes, fault
bodies), so novaclient, cinderclient and keystoneauth1 run unpatched.
Resources move through scripted statuses: each GET pops the next status
of ``server_script[id]`` / ``volume_script[id]`` until one is left.
Neutron's security groups are in neutron_fake.py (``cloud.neutron``).
"""
import json
import re
import uuid

from tests.unit.compute import neutron_fake
from trove.compute import nova
from trove.conf import CONF

AUTH_URL = 'http://keystone.test/v3'
NOVA_URL = 'http://nova.test/v2.1'
PROJECT = 'f5d6c0b3a1e74b1c9d0e2f3a4b5c6d7e'
CINDER_URL = 'http://cinder.test/v3/%s' % PROJECT
TOKEN = 'gAAAAAB-service-token'

FLAVORS = [
    {'id': '1', 'name': 'm1.tiny', 'ram': 512, 'vcpus': 1, 'disk': 5,
     'OS-FLV-EXT-DATA:ephemeral': 0, 'swap': '', 'rxtx_factor': 1.0,
     'os-flavor-access:is_public': True, 'description': None, 'links': []},
    {'id': '42', 'name': 'db.large', 'ram': 4096, 'vcpus': 2, 'disk': 40,
     'OS-FLV-EXT-DATA:ephemeral': 10, 'swap': '', 'rxtx_factor': 1.0,
     'os-flavor-access:is_public': True, 'description': None, 'links': []},
]

VOLUME_TYPES = [
    {'id': '5f0f1b0e-5b1c-4c55-9c4e-2f6a3f7d1a01', 'name': 'lvmdriver-1', 'description': None,
     'is_public': True, 'extra_specs': {'volume_backend_name': 'lvmdriver-1'},
     'os-volume-type-access:is_public': True, 'qos_specs_id': None},
    {'id': '5f0f1b0e-5b1c-4c55-9c4e-2f6a3f7d1a02', 'name': 'fast-ssd', 'description': 'NVMe',
     'is_public': False, 'extra_specs': {}, 'os-volume-type-access:is_public': False,
     'qos_specs_id': None},
]


def _endpoint(url):
    return [{'id': uuid.uuid4().hex, 'interface': iface, 'region': 'RegionOne',
             'region_id': 'RegionOne', 'url': url} for iface in ('public', 'internal')]


def token_body():
    """A Keystone v3 ``POST /auth/tokens`` body with a catalog of the fakes."""
    return {'token': {
        'methods': ['password'], 'expires_at': '2099-01-01T00:00:00.000000Z',
        'issued_at': '2026-01-01T00:00:00.000000Z', 'audit_ids': ['x'],
        'user': {'id': 'u1', 'name': 'trove', 'domain': {'id': 'default', 'name': 'Default'}},
        'project': {'id': PROJECT, 'name': 'service',
                    'domain': {'id': 'default', 'name': 'Default'}},
        'roles': [{'id': 'r1', 'name': 'admin'}],
        'catalog': [
            {'id': 'c1', 'type': 'compute', 'name': 'nova', 'endpoints': _endpoint(NOVA_URL)},
            {'id': 'c2', 'type': 'volumev3', 'name': 'cinderv3',
             'endpoints': _endpoint(CINDER_URL)},
            {'id': 'c3', 'type': 'network', 'name': 'neutron',
             'endpoints': _endpoint(neutron_fake.NEUTRON_URL)},
        ]}}


def _not_found(context, what):
    context.status_code = 404
    return {'itemNotFound': {'code': 404, 'message': '%s could not be found.' % what}}


class FakeCloud(neutron_fake.ScriptedFaults):
    """Registers the fake endpoints on a requests-mock ``Mocker``."""

    def __init__(self, mocker):
        self.m = mocker
        self.servers = {}
        self.volumes = {}
        self.server_script = {}
        self.addresses = {}
        self.volume_script = {}
        # GETs a deleted server still answers before it is gone (404).
        self.delete_polls = 1
        self.deleting = {}
        self.faults = {}
        self._register()
        self.neutron = neutron_fake.FakeNeutron(mocker, PROJECT)
        # Neutron refuses to delete a group a server's port still uses.
        self.neutron.in_use = lambda group: any(
            {'name': group['name']} in s['security_groups'] for s in self.servers.values())

    def _register(self):
        m = self.m
        m.post(AUTH_URL + '/auth/tokens', status_code=201, json=token_body(),
               headers={'X-Subject-Token': TOKEN})
        m.get(NOVA_URL + '/flavors/detail', json={'flavors': FLAVORS})
        m.get(re.compile(re.escape(NOVA_URL) + r'/flavors/(?!detail)[^/?]+$'), json=self._flavor)
        m.post(NOVA_URL + '/servers', json=self._create_server, status_code=202)
        m.get(NOVA_URL + '/servers/detail', json=self._list_servers)
        server = re.compile(re.escape(NOVA_URL) + r'/servers/(?!detail)[^/?]+$')
        m.get(server, json=self._get_server)
        m.delete(server, json=self._delete_server)
        m.post(re.compile(re.escape(NOVA_URL) + r'/servers/([^/]+)/action$'),
               json=self._server_action)
        m.delete(re.compile(re.escape(NOVA_URL) + r'/servers/[^/]+/os-volume_attachments/.+'),
                 json=self._detach, status_code=202)
        m.get(re.compile(re.escape(CINDER_URL) + r'/types(\?.*)?$'),
              json={'volume_types': VOLUME_TYPES})
        m.post(CINDER_URL + '/volumes', json=self._create_volume, status_code=202)
        volume = re.compile(re.escape(CINDER_URL) + r'/volumes/(?!detail)[^/?]+$')
        m.get(volume, json=self._get_volume)
        m.delete(volume, json=self._delete_volume)
        m.post(re.compile(re.escape(CINDER_URL) + r'/volumes/([^/]+)/action$'),
               json=self._volume_action)

    # Request log --------------------------------------------------------

    def calls(self, method=None, host=None):
        """``(METHOD, path, json body or None)`` of every request to the services."""
        out = []
        for req in self.m.request_history:
            if req.hostname == 'keystone.test' and host != 'keystone.test':
                continue
            if (method and req.method != method) or (host and req.hostname != host):
                continue
            body = json.loads(req.body) if req.body else None
            out.append((req.method, req.path + ('?' + req.query if req.query else ''), body))
        return out

    def last_request(self, method, path_end):
        for req in reversed(self.m.request_history):
            if req.method == method and req.path.endswith(path_end):
                return req
        raise AssertionError('no %s ...%s' % (method, path_end))

    # Nova ---------------------------------------------------------------

    def _flavor(self, request, context):
        flavor_id = request.path.rsplit('/', 1)[1]
        for flavor in FLAVORS:
            if flavor['id'] == flavor_id:
                return {'flavor': flavor}
        return _not_found(context, 'Flavor %s' % flavor_id)

    def _create_server(self, request, context):
        fault = self._fault('create_server', context)
        if fault:
            return fault
        body = request.json()['server']
        sid = str(uuid.uuid4())
        bdm = body.get('block_device_mapping_v2') or []
        self.servers[sid] = {
            'id': sid, 'name': body['name'], 'status': 'BUILD',
            'metadata': body.get('metadata', {}),
            'tags': body.get('tags', []),
            'security_groups': [{'name': 'default'}],
            'flavor': {'vcpus': 1, 'ram': 512, 'disk': 5, 'ephemeral': 0, 'swap': 0,
                       'original_name': 'm1.tiny', 'extra_specs': {}},
            'addresses': {'mgmt': [
                {'addr': '10.0.0.5', 'version': 4, 'OS-EXT-IPS:type': 'fixed',
                 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01'},
                {'addr': '203.0.113.9', 'version': 4, 'OS-EXT-IPS:type': 'floating',
                 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01'}]},
            'os-extended-volumes:volumes_attached': [
                {'id': b['uuid'], 'delete_on_termination': False}
                for b in bdm if b.get('source_type') == 'volume'],
        }
        # As real Nova: BUILD (without addresses) answered by the POST, the
        # build done by the first GET unless a test scripts the statuses.
        self.addresses[sid] = self.servers[sid].pop('addresses')
        self.server_script.setdefault(sid, ['ACTIVE'])
        return {'server': {'id': sid, 'links': [], 'OS-DCF:diskConfig': 'MANUAL',
                           'security_groups': [{'name': 'default'}], 'adminPass': 'x'}}

    def _server(self, sid):
        server = self.servers[sid]
        script = self.server_script.get(sid)
        if script:
            server['status'] = script.pop(0) if len(script) > 1 else script[0]
        # Nova lists addresses once the build has allocated the network.
        if server['status'] == 'BUILD':
            server.pop('addresses', None)
        else:
            server['addresses'] = self.addresses.get(sid, {})
        return server

    def _get_server(self, request, context):
        sid = request.path.rsplit('/', 1)[1]
        if sid in self.deleting:
            self.deleting[sid] -= 1
            if self.deleting[sid] < 0:
                self.servers.pop(sid, None)
                self.deleting.pop(sid)
        if sid not in self.servers:
            return _not_found(context, 'Instance %s' % sid)
        return {'server': self._server(sid)}

    def _list_servers(self, request, context):
        return {'servers': [self._server(sid) for sid in self.servers]}

    def _delete_server(self, request, context):
        sid = request.path.rsplit('/', 1)[1]
        if sid not in self.servers or sid in self.deleting:
            return _not_found(context, 'Instance %s' % sid)
        self.deleting[sid] = self.delete_polls
        context.status_code = 204
        return None

    def _server_action(self, request, context):
        sid = request.path.rstrip('/').split('/')[-2]
        if sid not in self.servers:
            return _not_found(context, 'Instance %s' % sid)
        fault = self._fault('action', context)
        if fault:
            return fault
        body = request.json()
        if 'addSecurityGroup' in body:
            return self._add_security_group(sid, body['addSecurityGroup']['name'], context)
        context.status_code = 204 if 'confirmResize' in body else 202
        return None

    def _add_security_group(self, sid, name_or_id, context):
        server = self.servers[sid]
        if server['status'] == 'BUILD':
            # Nova adds the group to the server's ports, allocated during the build.
            return _not_found(context, 'instance_id %s as device id on any ports' % sid)
        group = self.neutron.find(name_or_id)
        if group is None:
            return _not_found(context, 'Security group %s' % name_or_id)
        entry = {'name': group['name']}
        if entry in server['security_groups']:
            context.status_code = 400
            return {'badRequest': {'code': 400, 'message': 'Security group %s is already '
                                   'associated with the instance %s' % (group['name'], sid)}}
        server['security_groups'].append(entry)
        context.status_code = 202
        return None

    def _detach(self, request, context):
        vid = request.path.rsplit('/', 1)[1]
        if vid in self.volumes:
            self.volumes[vid]['attachments'] = []
        return None

    # Cinder -------------------------------------------------------------

    def _create_volume(self, request, context):
        fault = self._fault('create_volume', context)
        if fault:
            return fault
        body = request.json()['volume']
        vid = str(uuid.uuid4())
        self.volumes[vid] = {'id': vid, 'name': body['name'], 'size': body['size'],
                             'status': 'creating', 'attachments': [], 'bootable': 'false',
                             'volume_type': body.get('volume_type') or '__DEFAULT__',
                             'metadata': {}, 'links': []}
        self.volume_script.setdefault(vid, ['creating', 'available'])
        return {'volume': dict(self.volumes[vid])}

    def add_volume(self, status='available', size=1, attachments=()):
        vid = str(uuid.uuid4())
        self.volumes[vid] = {'id': vid, 'name': 'v', 'size': size, 'status': status,
                             'attachments': list(attachments), 'metadata': {}, 'links': []}
        return vid

    def _get_volume(self, request, context):
        vid = request.path.rsplit('/', 1)[1]
        if vid not in self.volumes:
            return _not_found(context, 'Volume %s' % vid)
        vol = self.volumes[vid]
        script = self.volume_script.get(vid)
        if script:
            vol['status'] = script.pop(0) if len(script) > 1 else script[0]
        elif vol['status'] == 'in-use' and not vol['attachments']:
            vol['status'] = 'available'  # a detach finished
        elif vol['status'] == 'extending':
            vol['status'] = 'in-use' if vol['attachments'] else 'available'
        return {'volume': dict(vol)}

    def _delete_volume(self, request, context):
        vid = request.path.rsplit('/', 1)[1]
        if vid not in self.volumes:
            return _not_found(context, 'Volume %s' % vid)
        self.volumes.pop(vid)
        context.status_code = 202
        return None

    def _volume_action(self, request, context):
        vid = request.path.rstrip('/').split('/')[-2]
        if vid not in self.volumes:
            return _not_found(context, 'Volume %s' % vid)
        new_size = request.json()['os-extend']['new_size']
        self.volumes[vid].update(size=new_size, status='extending')
        context.status_code = 202
        return None


def cloud(requests_mock):
    """Fixture body: a FakeCloud on the requests_mock fixture."""
    return FakeCloud(requests_mock)


def driver(cloud):
    """Fixture body: a NovaDriver configured for the fake cloud; polls do not sleep."""
    overrides = {'auth_url': AUTH_URL, 'username': 'trove', 'password': 'sekrit',
                 'project_name': 'service'}
    for key, value in overrides.items():
        CONF.set_override(key, value, group='service_credentials')
    CONF.set_override('state_change_poll_time', 0)
    CONF.set_override('management_networks', ['net-mgmt'])
    sleeps = []
    drv = nova.NovaDriver(sleep=sleeps.append)
    drv.sleeps = sleeps
    yield drv
    for key in overrides:
        CONF.clear_override(key, group='service_credentials')
    for key in ('state_change_poll_time', 'management_networks', 'volume_time_out',
                'server_delete_time_out', 'resize_time_out', 'usage_timeout'):
        CONF.clear_override(key)
