"""Continuous archiving for point-in-time recovery (see base.py).

Extension point: a datastore adds a module with an ``ArchiveStrategy``
subclass and one line in ``STRATEGIES``; the engine-neutral shipper
(shipper.py) and the restore (restore.py) do the rest.
"""
import importlib

from trove.common import exception

STRATEGIES = {
    'mariadb': 'trove.guestagent.archive.mariadb:MariaDBArchive',
    'mysql': 'trove.guestagent.archive.mariadb:MariaDBArchive',
    'postgresql': 'trove.guestagent.archive.postgresql:PgReceiveWal',
}


def get_strategy(manager, engine):
    """The archive strategy of datastore ``manager`` bound to ``engine``."""
    target = STRATEGIES.get(manager)
    if target is None:
        raise exception.DatastoreOperationNotSupported(
            operation='point-in-time recovery', datastore=manager)
    module, attr = target.split(':')
    return getattr(importlib.import_module(module), attr)(engine)
