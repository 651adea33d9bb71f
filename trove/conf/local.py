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
    cfg.IntOpt('agent_nice', default=10, min=0, max=19,
               help='CPU niceness of the guest agents and their engines.  The '
                    'local servers share the host with the control plane: '
                    'the API, taskmanager and conductor come first, or a '
                    'burst of builds starves the very requests that drive '
                    'them (on a cloud, guests run on other machines).  0 '
                    'runs them at the priority of the taskmanager.'),
    cfg.BoolOpt('supervise_agents', default=True,
                help='Run each guest agent under a supervisor that restarts '
                     'it when it dies (what systemd does on a VM).'),
    cfg.IntOpt('agent_restart_limit', default=5, min=1,
               help='Deaths of a guest agent within agent_restart_window '
                    'after which its supervisor gives up and the instance '
                    'shows a fault until a reboot.'),
    cfg.IntOpt('agent_restart_window', default=120, min=1,
               help='Seconds over which guest agent deaths are counted.'),
    cfg.FloatOpt('agent_restart_backoff', default=0.5, min=0.0,
                 help='Seconds before the first restart of a dead guest '
                      'agent; doubled per further death, up to 8 seconds.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
