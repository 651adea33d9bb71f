"""[backup] options: where backups are stored and how long they may run.

Read by the API (listing, restore checks), the taskmanager (watchdog,
deletes), the conductor (cleanup of late objects) and the guest (streaming
into the store and reading it back on restore).
"""
from oslo_config import cfg

group = cfg.OptGroup('backup', title='Backups and backup stores')

opts = [
    cfg.StrOpt('storage_driver', default='local',
               help='Backup store entry point in trove.backup.stores '
                    '(local or swift).'),
    cfg.StrOpt('local_store_path', default='/var/lib/trove/backups',
               help='Directory of the local object store; guests of the local '
                    'compute driver write to it directly.'),
    cfg.StrOpt('swift_url', default='',
               help='Swift account URL (https://host/v1/AUTH_project); '
                    '%(tenant_id)s in it stands for the project of the instance, '
                    'whose account then holds its backups and logs (the Swift '
                    'user below needs the reseller admin role).  Empty means '
                    'look it up with the credentials below.'),
    cfg.StrOpt('swift_auth_url', default='',
               help='Keystone URL for Swift; empty: a Swift without auth '
                    'middleware at swift_url.'),
    cfg.StrOpt('swift_user', default='', help='Swift user.'),
    cfg.StrOpt('swift_key', default='', secret=True, help='Swift password.'),
    cfg.StrOpt('swift_project', default='', help='Swift project.'),
    cfg.StrOpt('swift_container', default='database_backups',
               help='Container backups go to unless a backup strategy names '
                    'another.'),
    cfg.IntOpt('swift_segment_size', default=2 * 1024 ** 3, min=1024,
               help='Bytes per segment of a large-object upload.'),
    cfg.StrOpt('compression', default='zstd', choices=['zstd', 'gzip'],
               help='Stream compressor; gzip is used when zstd is missing.'),
    cfg.IntOpt('progress_interval', default=10, min=1,
               help='Seconds between progress reports of a running backup.'),
    cfg.IntOpt('stall_timeout', default=300, min=5,
               help='A running backup with no report for this many seconds '
                    'ends FAILED.'),
    cfg.IntOpt('restore_timeout', default=3600, min=10,
               help='Seconds one restore step (extract, prepare, move) may take.'),
    cfg.IntOpt('running_backups_expires', default=3 * 24 * 3600,
               help='Seconds after which a running backup no longer blocks '
                    'its deletion.'),
    cfg.IntOpt('backups_page_size', default=20,
               help='Default page size of backup lists.'),
    cfg.ListOpt('packages', default=['mariadb-backup'],
                help='Debian packages that provide mariabackup and mbstream.'),
    cfg.FloatOpt('schedule_interval', default=5.0, min=0.5,
                 help='Seconds between two looks at the backup schedules (in the one '
                      'taskmanager that leads the job backup-schedules).'),
    cfg.IntOpt('retention_interval', default=300, min=1,
               help='Seconds between two passes of retention over every backup '
                    'schedule (a schedule whose slot ran is pruned at once).'),
    cfg.IntOpt('schedules_per_instance', default=5, min=1,
               help='Backup schedules an instance may have.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


# Options a guest needs to reach the same store as the control plane.
_GUEST_OPTS = ('storage_driver', 'local_store_path', 'swift_url', 'swift_auth_url',
               'swift_user', 'swift_key', 'swift_project', 'swift_container',
               'swift_segment_size', 'compression', 'progress_interval', 'packages')


def guest_lines():
    """The ``[backup]`` section of a derived guest config (it may hold the Swift
    key: the file is written into the guest only, never logged)."""
    from trove.conf import CONF
    lines = ['[backup]']
    for name in _GUEST_OPTS:
        value = CONF.backup[name]
        if value in (None, ''):
            continue
        if isinstance(value, list):
            value = ','.join(value)
        lines.append('%s = %s' % (name, value))
    return lines
