"""[DEFAULT] options shared by the control-plane daemons."""
from oslo_config import cfg

opts = [
    cfg.StrOpt('host', default='localhost',
               help='Name of this node, used as the RPC server name.'),
    cfg.StrOpt('taskmanager_queue', default='taskmanager',
               help='RPC topic of the taskmanager.'),
    cfg.StrOpt('conductor_queue', default='trove-conductor',
               help='RPC topic of the conductor.'),
    cfg.FloatOpt('heartbeat_batch_window', default=0.05, min=0, max=5,
                 help='Seconds the conductor collects guest heartbeats before it '
                      'applies them in one transaction (0: each on its own). A '
                      'conductor killed outright loses at most this window of '
                      'heartbeats; guests send them again every report_interval.'),
    cfg.StrOpt('compute_driver', default='local',
               help='Compute driver entry point in trove.compute.drivers.'),
    cfg.IntOpt('usage_timeout', default=900, min=1,
               help='Seconds the taskmanager waits for a new guest to '
                    'report before the build ends in ERROR.'),
    cfg.FloatOpt('usage_sleep_time', default=0.2, min=0.05,
                 help='Seconds between status polls while waiting for a guest; '
                      'a poll is one indexed read of the service status.'),
    cfg.IntOpt('agent_heartbeat_expiry', default=90, min=1,
               help='A guest whose last heartbeat is older than this many '
                    'seconds is shown with operating_status ERROR.'),
    cfg.IntOpt('agent_call_low_timeout', default=15,
               help='Timeout of quick RPC calls to a guest.'),
    cfg.IntOpt('agent_call_high_timeout', default=180,
               help='Timeout of slow RPC calls to a guest.'),
    cfg.IntOpt('agent_replication_snapshot_timeout', default=1800,
               help='Seconds a replica build waits for the snapshot of its primary, '
                    'and a promotion for the replica to catch up.'),
    cfg.IntOpt('prepare_resend_interval', default=60,
               help='Seconds between repeated prepare casts to a building guest that '
                    'has not reported running (an agent restarted mid-prepare lost '
                    'it; a guest that has it ignores a repeat).'),
    cfg.IntOpt('configuration_apply_timeout', default=30,
               help='Seconds the API waits for the taskmanager to apply a '
                    'configuration change (attach, detach, group edit) before it '
                    'answers; the change goes on after a timeout.'),
    cfg.IntOpt('server_delete_time_out', default=60,
               help='Seconds to wait for a compute server to go away.'),
    cfg.StrOpt('default_datastore', default='mariadb',
               help='Datastore used when a create request names none.'),
    cfg.BoolOpt('volume_support', default=True,
                help='Whether instances get a volume.'),
    cfg.IntOpt('max_accepted_volume_size', default=10,
               help='Largest volume (GB) a user may request.'),
    cfg.IntOpt('instances_page_size', default=20,
               help='Default page size of instance lists.'),
    cfg.IntOpt('databases_page_size', default=20,
               help='Default page size of database lists of an instance.'),
    cfg.IntOpt('users_page_size', default=20,
               help='Default page size of user lists of an instance.'),
    cfg.StrOpt('guest_config', default='/etc/trove/trove-guestagent.conf',
               help='Controller-side guest agent config copied into guests.'),
    cfg.StrOpt('guest_python', default='',
               help='Python interpreter that runs the guest agent on the '
                    'local driver; empty means the interpreter of the '
                    'taskmanager.'),
    cfg.StrOpt('region', default='RegionOne', help='Region name shown in views.'),
]


def register_opts(conf):
    conf.register_opts(opts)
