"""Options read by the guest agent from guest_info.conf and trove-guestagent.conf.

The control plane writes these files into the server (the local driver into
its directory, nova through injected files) before the agent starts.
"""
from oslo_config import cfg

opts = [
    cfg.StrOpt('guest_id', help='ID of the instance this agent serves.'),
    cfg.StrOpt('datastore_manager', help='Engine manager name, e.g. mariadb.'),
    cfg.StrOpt('datastore_version', help='Datastore version name.'),
    cfg.StrOpt('tenant_id', help='Project owning the instance.'),
    cfg.StrOpt('host_address', default='0.0.0.0',
               help='Address the database engine binds to.'),
    cfg.StrOpt('mount_point', default='/var/lib/trove/volume',
               help='Where the instance volume is mounted; engine data '
                    'lives below it.'),
    cfg.StrOpt('guest_state_dir', default='/var/lib/trove-guestagent',
               help='Private state of the agent: run files, logs, secrets.'),
    cfg.IntOpt('report_interval', default=10, min=1,
               help='Seconds between heartbeats to the conductor.'),
    cfg.IntOpt('state_change_wait_time', default=120,
               help='Seconds to wait for the engine to start or stop.'),
    cfg.BoolOpt('spare', default=False,
                help='Boot as a pre-started spare: bring the engine up with '
                     'no identity, then wait for the compute driver to hand '
                     'one over (guest_info.conf rewritten, then SIGHUP).'),
    cfg.IntOpt('spare_flavor_ram', default=1024, min=64,
               help='RAM in MB the spare sizes its engine configuration '
                    'for; a claim for another size restarts the engine.'),
    cfg.FloatOpt('engine_watch_interval', default=1.0, min=0.1,
                 help='Seconds between checks that the engine still runs; a '
                      'crashed engine is restarted by the agent.'),
    cfg.IntOpt('engine_restart_limit', default=5, min=0,
               help='Automatic restarts of a crashed engine allowed within '
                    'engine_restart_window; one more crash and the agent '
                    'leaves the engine down with a fault.  0 turns the '
                    'self-healing off.'),
    cfg.IntOpt('engine_restart_window', default=300, min=1,
               help='Seconds over which engine crashes are counted.'),
    cfg.IntOpt('replication_broken_after', default=30, min=0,
               help='Seconds a replica may fail to follow its primary (the '
                    'stream down, a reconnect in progress) before it reports '
                    'the stream broken: status ERROR with the engine\'s '
                    'reason as the fault.  A shorter outage is a blip.'),
    cfg.BoolOpt('install_packages', default=True,
                help='Install the engine packages when the binaries are '
                     'missing.'),
]


def register_opts(conf):
    conf.register_opts(opts)
