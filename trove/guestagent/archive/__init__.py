"""Continuous archiving for point-in-time recovery (see base.py).

Extension point: a datastore adds a module with an ``ArchiveStrategy``
subclass and one line in ``STRATEGIES``; the engine-neutral shipper
(shipper.py) and the restore (restore.py) do the rest.
"""
from trove.common import exception, plugins

STRATEGIES = {
    'mariadb': 'trove.guestagent.archive.mariadb:MariaDBArchive',
    'mysql': 'trove.guestagent.archive.mariadb:MariaDBArchive',
    'postgresql': 'trove.guestagent.archive.postgresql:PgReceiveWal',
}


def get_strategy(manager, engine):
    """The archive strategy of datastore ``manager`` bound to ``engine``."""
    cls = plugins.builtin_class(STRATEGIES, manager)
    if cls is None:
        raise exception.DatastoreOperationNotSupported(
            operation='point-in-time recovery', datastore=manager)
    return cls(engine)
