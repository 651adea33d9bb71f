"""What the conductor does with a guest's ``update_backup`` report.

Reports older than the last one seen for the instance are dropped (the
``sent`` check), as are reports whose backup does not belong to the
instance.  A backup in a final state is never changed again: when the
watchdog already failed it and the guest still finishes, the object the
guest wrote is removed so nothing is left that no record points to.
"""
from oslo_log import log as logging

from trove.backup import stores
from trove.common import exception
from trove.common.states import BackupState
from trove.db import api as db_api
from trove.db import backups as db_backups

LOG = logging.getLogger(__name__)

# Columns a guest may set; anything else in a report is ignored.
FIELDS = ('state', 'size', 'checksum', 'location', 'backup_type')
_ALLOWED_STATES = BackupState.RUNNING | {BackupState.COMPLETED, BackupState.FAILED}


def update_backup(instance_id, backup_id, sent, fields):
    """Apply one report; returns True when the backup row changed."""
    if sent is not None and not db_api.record_sent(instance_id, 'update_backup', sent):
        LOG.info('Dropping stale update_backup of %s (sent %s)', backup_id, sent)
        return False
    try:
        row = db_backups.get_backup(backup_id)
    except exception.NotFound:
        LOG.warning('update_backup for unknown backup %s', backup_id)
        _drop_orphan(None, fields)
        return False
    if row.instance_id != instance_id:
        LOG.warning('update_backup: backup %s is not of instance %s', backup_id, instance_id)
        return False
    values = {k: fields[k] for k in FIELDS if fields.get(k) is not None}
    if values.get('state') not in (None, *_ALLOWED_STATES):
        LOG.warning('update_backup: invalid state %r for %s', values['state'], backup_id)
        return False
    changed = db_backups.update_backup(backup_id, expected_states=BackupState.RUNNING,
                                       **values)
    if not changed:
        LOG.warning('Backup %s is %s already; report %s ignored', backup_id, row.state,
                    values.get('state'))
        _drop_orphan(row, fields)
        return False
    if values.get('state') in BackupState.END:
        LOG.info('Backup %s of %s is %s', backup_id, instance_id, values['state'])
    return True


def _drop_orphan(row, fields):
    """Delete an object a late report points to that no record will keep."""
    location = fields.get('location')
    if not location or fields.get('state') != BackupState.COMPLETED:
        return
    if row is not None and row.location == location:
        return
    driver = (row.storage_driver if row is not None else None) or fields.get('storage_driver')
    try:
        stores.get_store(driver).delete(location)
        LOG.info('Removed orphaned backup object %s', location)
    except Exception as exc:
        LOG.error('Could not remove orphaned backup object %s: %s', location, exc)
