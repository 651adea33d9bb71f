"""Backup requests, shared by the API and the taskmanager's schedules.

A backup request reserves quota (backups +1), inserts the backup in NEW
(refused while another backup of the instance runs) and casts
``create_backup`` to a taskmanager; a delete request stores that the delete
was accepted, gives the quota of the backup and every incremental built on
it back and casts ``delete_backup``.  ``tm`` is the taskmanager client.
"""
from oslo_log import log as logging

from trove.backup import info as backup_info
from trove.common import exception, quota
from trove.common.states import BackupState
from trove.db import backups as db_backups
from trove.db import datastores

LOG = logging.getLogger(__name__)


class ServiceUnavailable(exception.TroveError):
    code = 503
    message = '%(detail)s'


def request_backup(tm, tenant_id, inst, name, description=None, parent=None,
                   driver=None, container=None, schedule_id=None):
    """Create and cast a backup of ``inst`` (incremental on ``parent``); returns its row."""
    version = datastores.get_version_by_id(inst.datastore_version_id)
    ds = datastores.get_datastore(version.datastore_id)

    def create_and_cast():
        row = db_backups.create_backup(dict(
            name=name, description=description, tenant_id=tenant_id, instance_id=inst.id,
            backup_type='incremental' if parent else 'full',
            parent_id=parent.id if parent else None, datastore_version_id=version.id,
            storage_driver=driver, schedule_id=schedule_id))
        info = backup_info.create_info(row, parent, container, ds.name, version.name)
        try:
            tm.create_backup(backup_info=info, instance_id=row.instance_id)
        except Exception as exc:
            LOG.error('Casting create_backup for %s failed: %s', row.id, exc)
            db_backups.update_backup(row.id, state=BackupState.FAILED)
            raise ServiceUnavailable(detail='Backup %s could not be scheduled: the '
                                            'taskmanager is unreachable.' % row.id)
        return row

    row = quota.run_with_quotas(tenant_id, quota.backup_deltas(+1), create_and_cast)
    LOG.info('Backup %s (%s) of instance %s requested', row.id, row.backup_type, inst.id)
    return row


def request_delete(tm, tenant_id, row):
    """Accept the delete of ``row`` and its incrementals; False when one was
    accepted already (nothing changes)."""
    doomed = 1 + len(db_backups.descendants(row.id))
    # Stored first: if the taskmanager that takes the cast dies, another
    # one (or this one restarted) finishes the delete.
    if not db_backups.request_delete(row.id):
        LOG.info('Backup %s delete was requested already', row.id)
        return False
    try:
        quota.run_with_quotas(tenant_id, quota.backup_deltas(-doomed),
                              lambda: tm.delete_backup(backup_id=row.id))
    except Exception:
        db_backups.request_delete(row.id, requested=False)
        raise
    LOG.info('Backup %s delete requested (with %d incrementals)', row.id, doomed - 1)
    return True
