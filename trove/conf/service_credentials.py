"""[service_credentials] and the [DEFAULT] options of the ``nova`` compute driver.

The taskmanager talks to Nova and Cinder as the trove *service user*, never
with the end user's token: a build outlives the token that asked for it and
the servers belong to the service project, out of the tenant's reach.
"""
from oslo_config import cfg

group = cfg.OptGroup('service_credentials', title='Keystone credentials of the trove '
                     'service user, used for Nova and Cinder')

opts = [
    cfg.StrOpt('auth_url', default='http://127.0.0.1/identity/v3',
               help='Keystone v3 endpoint.'),
    cfg.StrOpt('username', default='trove', help='Service user name.'),
    cfg.StrOpt('password', default='', secret=True, help='Service user password.'),
    cfg.StrOpt('project_name', default='service', help='Project the servers live in.'),
    cfg.StrOpt('user_domain_name', default='Default', help='Domain of the user.'),
    cfg.StrOpt('project_domain_name', default='Default', help='Domain of the project.'),
    cfg.StrOpt('region_name', default='RegionOne',
               help='Region whose Nova and Cinder endpoints are used.'),
    cfg.StrOpt('interface', default='public',
               choices=['public', 'internal', 'admin'],
               help='Catalog interface of the Nova and Cinder endpoints.'),
    cfg.StrOpt('cafile', help='CA bundle to verify the endpoints; system CAs when unset.'),
    cfg.BoolOpt('insecure', default=False, help='Skip TLS verification (testing only).'),
]

# Upstream keeps these in [DEFAULT]; the names and defaults match its so an
# existing trove.conf carries over.
compute_opts = [
    cfg.StrOpt('nova_client_version', default='2.57',
               help='Nova API microversion (2.52 or later: servers are booted with tags).'),
    cfg.StrOpt('cinder_client_version', default='3.42',
               help='Cinder API microversion (3.42 or later extends attached volumes).'),
    cfg.IntOpt('volume_time_out', default=60, min=1,
               help='Seconds to wait for a Cinder volume to become available.'),
    cfg.IntOpt('reboot_time_out', default=120, min=1,
               help='Seconds to wait for a rebooted server to be ACTIVE again.'),
    cfg.IntOpt('resize_time_out', default=900, min=1,
               help='Seconds to wait for a server resize to finish.'),
    cfg.IntOpt('state_change_poll_time', default=3, min=0,
               help='Seconds between status polls of Nova and Cinder resources.'),
    cfg.StrOpt('nova_keypair', help='Key pair injected into new servers, if any.'),
    cfg.ListOpt('management_networks', default=[],
                help='Network ids every new server gets a port on; empty lets '
                     'Nova pick the project network.'),
    cfg.StrOpt('writer_floating_network',
               help='External network the nova driver allocates the writer address of '
                    'a highly available replica set from (a floating IP moved to the '
                    'primary on a failover); unset: no writer addresses.'),
    cfg.StrOpt('cinder_volume_type', help='Cinder volume type of data volumes.'),
    cfg.StrOpt('block_device_mapping', default='vdb',
               help='Device name the data volume is attached as.'),
    # Not "trove": on PyPI that name is upstream OpenStack Trove, whose agent
    # does not speak this control plane's RPC.
    cfg.StrOpt('guest_package', default='',
               help='pip requirement the cloud-init userdata installs the guest '
                    'agent from when the image has none, e.g. the URL of this '
                    "project's wheel (https://example.org/trove-1.0-py3-none-any.whl). "
                    'Empty (the default): no fallback, the image must carry the '
                    'agent (tools/guest-image/build makes one).'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
    conf.register_opts(compute_opts)
