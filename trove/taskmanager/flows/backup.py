"""Backups in the taskmanager: hand a backup to its guest, delete backups,
and fail backups whose guest went silent.

The guest reports NEW -> BUILDING (repeatedly, as progress) -> COMPLETED |
FAILED through the conductor; the watchdog here ends every backup that has
not reported for ``[backup] stall_timeout`` seconds in FAILED, so a lost
cast or a dead guest never leaves a backup BUILDING forever; a backup of a
guest that stopped heartbeating ends sooner, after agent_heartbeat_expiry.
"""
import datetime

from oslo_log import log as logging

from trove.backup import stores
from trove.common.states import BackupState
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import models
from trove.guestagent import rpcapi as guest_rpcapi

LOG = logging.getLogger(__name__)


def create_backup(context, backup_info, instance_id):
    """Cast ``create_backup`` to the instance's guest for a backup in NEW."""
    backup_id = backup_info['id']
    try:
        row = db_backups.get_backup(backup_id)
    except Exception:
        LOG.info('Backup %s was deleted before it started', backup_id)
        return
    if row.state != BackupState.NEW:
        LOG.info('Backup %s is %s already; not starting it again', backup_id, row.state)
        return
    try:
        guest_rpcapi.GuestAPI(context, instance_id).create_backup(backup_info=backup_info)
    except Exception as exc:
        LOG.error('Could not send backup %s to guest %s: %s', backup_id, instance_id, exc)
        db_backups.update_backup(backup_id, expected_states=BackupState.RUNNING,
                                 state=BackupState.FAILED)
        return
    LOG.info('Backup %s of %s sent to the guest', backup_id, instance_id)


def _delete_one(row):
    """Remove one backup's object, then its record; False if the store failed."""
    if row.location:
        try:
            stores.get_store(row.storage_driver).delete(row.location)
        except Exception as exc:
            LOG.error('Deleting the object of backup %s failed: %s', row.id, exc)
            db_backups.update_backup(row.id, state=BackupState.DELETE_FAILED)
            return False
    db_backups.mark_deleted(row.id)
    return True


def delete_backup(context, backup_id):
    """Delete a backup and every incremental built on it, children first."""
    try:
        row = db_backups.get_backup(backup_id)
    except Exception:
        LOG.info('Backup %s is already gone', backup_id)
        return
    # Deepest incrementals go first, so a failure never leaves a child
    # whose parent is gone.
    for item in reversed([row] + db_backups.descendants(backup_id)):
        if not _delete_one(item):
            LOG.error('Delete of backup %s stopped at %s', backup_id, item.id)
            # DELETE_FAILED is its end: a new delete request may try again.
            db_backups.request_delete(backup_id, requested=False)
            return
    LOG.info('Backup %s deleted', backup_id)


def watchdog():
    """Periodic: end running backups that cannot finish any more, FAILED.

    Those without a report for stall_timeout, and sooner those whose guest
    has stopped reporting (no heartbeat for agent_heartbeat_expiry): that
    guest cannot finish them, and its instance gets a fault saying so.
    """
    failed = db_backups.fail_stalled(CONF.backup.stall_timeout)
    if failed:
        LOG.warning('Backups %s ended FAILED: no report for %ss', ', '.join(failed),
                    CONF.backup.stall_timeout)
    failed += fail_silent_guests()
    for backup_id in failed:
        _discard_partial(backup_id)
    return failed


def fail_silent_guests(now=None):
    """FAIL running backups of guests that stopped reporting; returns their ids."""
    now = now or models.utcnow()
    expiry = CONF.agent_heartbeat_expiry
    limit = now - datetime.timedelta(seconds=expiry)
    failed = []
    for row in db_backups.list_running():
        service = db_api.get_service_status(row.instance_id) if row.instance_id else None
        # No status row: not a guest we know to be silent (the stall rule applies).
        if service is None or row.updated >= limit or not db_api.guest_silent(service, now):
            continue
        if db_backups.update_backup(row.id, expected_states=BackupState.RUNNING,
                                    state=BackupState.FAILED):
            db_api.save_fault(row.instance_id, 'Backup %s failed: the guest agent stopped '
                                               'reporting (no heartbeat for %ds).'
                              % (row.id, expiry))
            failed.append(row.id)
    return failed


def _discard_partial(backup_id):
    """A guest that died mid-upload could not clean up after itself."""
    try:
        row = db_backups.get_backup(backup_id)
        removed = stores.get_store(row.storage_driver,
                                   tenant_id=row.tenant_id).discard_partial(backup_id)
        if removed:
            LOG.info('Removed partial upload of backup %s: %s', backup_id, removed)
    except Exception as exc:
        LOG.warning('Could not clean the partial upload of %s: %s', backup_id, exc)
