"""[local] options of the embedded local compute driver."""
from oslo_config import cfg

group = cfg.OptGroup('local', title='Local compute driver')

opts = [
    cfg.StrOpt('base_dir', default='/var/lib/trove/local',
               help='Directory holding one sub-directory per server.'),
    cfg.StrOpt('address_prefix', default='127.77',
               help='First two octets of the loopback addresses given to '
                    'servers.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
