"""Guest-side backup and restore: strategies per datastore manager.

Extension point: a datastore adds a module with a ``BackupStrategy``
subclass (see ``base.py``) and one line in ``STRATEGIES``, plus its manager
name in ``trove.backup.info.SUPPORTED_MANAGERS`` so the API accepts its
backups.  PostgreSQL (pg_basebackup) and Redis (RDB) plug in here.
"""
from trove.common import exception, plugins

STRATEGIES = {
    'mariadb': 'trove.guestagent.backup.mariadb:MariaBackup',
    'mysql': 'trove.guestagent.backup.mariadb:MariaBackup',
    'postgresql': 'trove.guestagent.backup.postgresql:PgBaseBackup',
    'redis': 'trove.guestagent.backup.redis:RedisRDB',
}


def get_strategy(manager, engine):
    """The backup strategy of datastore ``manager`` bound to ``engine``."""
    cls = plugins.builtin_class(STRATEGIES, manager)
    if cls is None:
        raise exception.DatastoreOperationNotSupported(operation='backup', datastore=manager)
    return cls(engine)
