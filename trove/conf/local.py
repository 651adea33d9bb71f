"""[local] options of the embedded local compute driver."""
from oslo_config import cfg

group = cfg.OptGroup('local', title='Local compute driver')

opts = [
    cfg.StrOpt('base_dir', default='/var/lib/trove/local',
               help='Directory holding one sub-directory per server.'),
    cfg.StrOpt('address_prefix', default='127.77',
               help='First two octets of the loopback addresses given to '
                    'servers.'),
    cfg.DictOpt('spare_servers', default={},
                help='Pre-started spare servers kept per datastore manager, '
                     'e.g. "mariadb:1".  A spare has its agent running and '
                     'its engine initialised and started; a create claims '
                     'one and only creates databases and users.  Costs the '
                     'memory of an idle engine per spare.'),
    cfg.StrOpt('spare_flavor', default='2',
               help='Flavor spares are sized for.  A claim for a flavor with '
                    'other RAM rewrites the engine config and restarts it.'),
    cfg.IntOpt('spare_boot_timeout', default=300, min=10,
               help='Seconds a spare may take to become ready before it is '
                    'deleted and replaced.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
