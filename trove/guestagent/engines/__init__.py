"""Engine managers, one per datastore manager name (entry points
``trove.guestagent.engines``)."""
from trove.common import plugins

ENTRY_POINT_GROUP = 'trove.guestagent.engines'

_BUILTIN = {
    'mariadb': 'trove.guestagent.engines.mysql.manager:MariaDBEngine',
    'mysql': 'trove.guestagent.engines.mysql.manager:MariaDBEngine',
    'postgresql': 'trove.guestagent.engines.postgresql.manager:PostgreSQLEngine',
    'redis': 'trove.guestagent.engines.redis.manager:RedisEngine',
}


def load_engine(manager):
    """Instantiate the engine for datastore manager ``manager``."""
    cls = plugins.load_class(ENTRY_POINT_GROUP, manager, _BUILTIN)
    if cls is None:
        raise ValueError('No guest engine for datastore manager %r' % manager)
    return cls()
