"""[failover] options: automatic failover of highly available replica sets."""
from oslo_config import cfg

group = cfg.OptGroup('failover', title='Automatic failover of replica sets')

opts = [
    cfg.BoolOpt('enabled_by_default', default=False,
                help='New primaries are highly available unless their create request '
                     'says otherwise (high_availability.enabled).'),
    cfg.BoolOpt('synchronous_by_default', default=False,
                help='Highly available replica sets commit synchronously (an '
                     'acknowledged commit is on a replica) unless the request says '
                     'otherwise (high_availability.synchronous).'),
    cfg.FloatOpt('check_interval', default=1.0, min=0.2,
                 help='Seconds between two looks at the primaries of highly available '
                      'replica sets (in the one taskmanager that leads the job).'),
    cfg.FloatOpt('primary_silence', default=5.0, min=1.0,
                 help='A primary whose guest has not reported for this many seconds, and '
                      'does not answer a status call within confirm_timeout, is failed '
                      'over (keep it above two guest report_interval; a blip changes '
                      'nothing).'),
    cfg.FloatOpt('confirm_timeout', default=2.0, min=0.2,
                 help='Seconds a silent primary\'s guest gets to answer a direct status '
                      'call; a healthy answer means a blip, not a failure.'),
    cfg.FloatOpt('engine_down_grace', default=5.0, min=0.0,
                 help='A primary whose guest reports its engine down (crashed or shut '
                      'down) is failed over once it has stayed down this long: the '
                      "guest's own restart of the engine gets the first chance."),
    cfg.FloatOpt('synchronous_timeout', default=10.0, min=0.1,
                 help='Synchronous replica sets (MariaDB): a commit waits this many seconds '
                      'for a replica before the primary falls back to asynchronous '
                      'commits until a replica catches up. PostgreSQL waits without a '
                      'limit.'),
    cfg.FloatOpt('fence_timeout', default=3.0, min=0.5,
                 help='Seconds the old primary\'s guest gets to stop its engine before '
                      'the server is powered off through the compute driver.'),
    cfg.FloatOpt('rejoin_interval', default=5.0, min=0.5,
                 help='Seconds between two looks at old primaries waiting to rejoin '
                      'their replica set after a failover (and between two attempts '
                      'of one).'),
    cfg.IntOpt('rejoin_attempts', default=5, min=1,
               help='Failed attempts to make an old primary a replica of the new one '
                    'before giving up with a fault (an operator then rebuilds or '
                    'deletes it).'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
