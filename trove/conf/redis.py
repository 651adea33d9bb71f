"""[redis] engine options for the Redis guest manager."""
from oslo_config import cfg

group = cfg.OptGroup('redis', title='Redis engine')

opts = [
    cfg.PortOpt('port', default=6379, help='Port the engine listens on.'),
    cfg.ListOpt('packages', default=['redis-server'],
                help='Debian packages installed when binaries are missing.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
