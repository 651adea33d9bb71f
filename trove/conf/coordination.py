"""[coordination] options: several api/taskmanager/conductor processes (tooz)."""
from oslo_config import cfg

group = cfg.OptGroup('coordination', title='Coordination of several control-plane processes')

opts = [
    cfg.StrOpt('backend_url', default='', secret=True,
               help='tooz backend shared by every taskmanager, e.g. '
                    'redis://127.0.0.1:6380?timeout=10. Empty (the single-host default): '
                    'one taskmanager, locks inside the process, no extra service. The '
                    'backend must offer locks and groups (redis, etcd3gw, zookeeper).'),
    cfg.IntOpt('takeover_interval', default=5, min=1,
               help='Seconds between two looks for tasks of taskmanagers that left the '
                    'group (their in-flight work is taken over).'),
    cfg.IntOpt('orphan_after', default=30, min=1,
               help='A stored task no taskmanager has started after this many seconds '
                    '(its cast died with the taskmanager that took it) is taken over.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
