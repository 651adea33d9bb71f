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
    cfg.FloatOpt('primary_silence', default=4.0, min=1.0,
                 help='A primary whose guest has not reported for this many seconds is '
                      'failed over (keep it above two guest report_interval; a blip '
                      'shorter than this changes nothing).'),
    cfg.FloatOpt('engine_down_grace', default=5.0, min=0.0,
                 help='A primary whose guest reports its engine down (crashed or shut '
                      'down) is failed over once it has stayed down this long: the '
                      "guest's own restart of the engine gets the first chance."),
    cfg.FloatOpt('fence_timeout', default=3.0, min=0.5,
                 help='Seconds the old primary\'s guest gets to stop its engine before '
                      'the server is powered off through the compute driver.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)
