"""The ``backup_info`` dicts sent to guests, built from backup rows.

For a backup: what to back up and where to put it (plus the parent's
location for an incremental).  For a restore: the chain from the full
backup to the requested one, each with its location and checksum, so the
guest can verify every object before it touches the datadir.
"""
from trove.conf import CONF
from trove.db import backups as db_backups
from trove.db import datastores

# Datastore managers whose guests have a backup strategy; keep in sync with
# trove.guestagent.backup.STRATEGIES (the API refuses backups of others).
SUPPORTED_MANAGERS = frozenset({'mariadb', 'mysql', 'postgresql', 'redis'})
# Of those, the managers whose strategy takes incremental backups.
INCREMENTAL_MANAGERS = frozenset({'mariadb', 'mysql', 'postgresql'})


def _entry(row):
    return {'id': row.id, 'location': row.location, 'checksum': row.checksum,
            'backup_type': row.backup_type, 'storage_driver': row.storage_driver}


def create_info(backup, parent, container, datastore, version):
    """What the guest's ``create_backup`` needs."""
    return {
        'id': backup.id,
        'instance_id': backup.instance_id,
        'backup_type': backup.backup_type,
        'storage_driver': backup.storage_driver,
        'container': container,
        'parent': _entry(parent) if parent is not None else None,
        'datastore': datastore,
        'datastore_version': version,
    }


def info_for(row):
    """``create_info`` of a stored backup row: its parent, its datastore's
    names and the deployment's container of the instance."""
    version = datastores.get_version_by_id(row.datastore_version_id)
    datastore = datastores.get_datastore(version.datastore_id)
    parent = db_backups.get_backup(row.parent_id) if row.parent_id else None
    container = db_backups.container_for(row.tenant_id, row.instance_id,
                                         CONF.backup.swift_container)
    return create_info(row, parent, container, datastore.name, version.name)


def restore_info(backup_id):
    """What the guest's ``prepare`` needs to restore ``backup_id`` (and its parents)."""
    rows = db_backups.chain(backup_id)
    return {'backup_id': backup_id, 'storage_driver': rows[-1].storage_driver,
            'chain': [_entry(r) for r in rows]}
