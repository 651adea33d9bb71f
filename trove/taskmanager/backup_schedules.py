"""Run backup schedules and their retention (job ``backup-schedules``).

Every ``[backup] schedule_interval`` seconds the one taskmanager leading the
job looks at every schedule (trove.backup.schedule): a due slot is claimed
with a conditional update (db/backup_schedules.claim_slot), so it runs
exactly once even with several taskmanagers or a change of leader, and a
backup is requested as the API would (quota, NEW row, cast to any
taskmanager).  An instance that cannot take a backup then (busy, down, a
backup running) skips the slot; ``last_error`` says why.  Then retention
deletes the completed backups of the schedule it no longer keeps, never
one a kept backup (or a backup of another origin) is built on; each
delete prunes the instance's continuous archive to what the kept backups
need, and every ``retention_interval`` every archive is pruned so
(trove.taskmanager.archive_retention).
"""
from oslo_log import log as logging

from trove.backup import info as backup_info
from trove.backup import requests
from trove.backup import schedule as policy
from trove.common import context as trove_context
from trove.common import exception, readiness
from trove.common.states import BackupState
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backup_schedules
from trove.db import backups as db_backups
from trove.db import datastores
from trove.db import models
from trove.taskmanager import archive_retention
from trove.taskmanager import rpcapi as tm_rpcapi
from trove.taskmanager.flows import restart as restart_flow

LOG = logging.getLogger(__name__)


def _parent(inst, run_number, full_every):
    version = datastores.get_version_by_id(inst.datastore_version_id)
    if (policy.is_full(run_number, full_every)
            or version.manager not in backup_info.INCREMENTAL_MANAGERS):
        return None
    return db_backups.last_completed(inst.id)


def run_slot(tm, row, slot):
    """The backup of ``row``'s ``slot`` (claimed already); returns its id or None."""
    try:
        inst = db_api.get_instance(row.instance_id)
        readiness.check_actionable(inst)
        parent = _parent(inst, row.runs + 1, row.full_every)
        backup = requests.request_backup(
            tm, row.tenant_id, inst, '%s %s' % (row.name, slot.strftime('%Y-%m-%dT%H:%M:%SZ')),
            description='Scheduled by backup schedule %s' % row.id, parent=parent,
            driver=CONF.backup.storage_driver,
            container=db_backups.container_for(row.tenant_id, inst.id,
                                               CONF.backup.swift_container),
            schedule_id=row.id)
    except exception.InstanceNotFound:
        LOG.info('Instance %s of backup schedule %s is gone; dropping it',
                 row.instance_id, row.id)
        backup_schedules.delete(row.id)
        return None
    except Exception as exc:
        text = 'Slot %s skipped: %s' % (slot.isoformat(), restart_flow._error_text(exc))
        LOG.warning('Backup schedule %s: %s', row.id, text)
        backup_schedules.ran(row.id, row.last_backup_id, text)
        return None
    backup_schedules.ran(row.id, backup.id, None)
    LOG.info('Backup schedule %s took backup %s (%s) for slot %s', row.id, backup.id,
             backup.backup_type, slot.isoformat())
    return backup.id


def prune(tm, row, now):
    """Delete what retention no longer keeps; returns the ids asked to go."""
    done = [b for b in db_backups.of_schedule(row.id)
            if b.state == BackupState.COMPLETED and b.delete_requested is None]
    doomed = set(policy.to_prune(done, row.keep_count, row.keep_days, now))
    asked = []
    for backup in done:
        if backup.id not in doomed:
            continue
        others = [d for d in db_backups.descendants(backup.id) if d.id not in doomed]
        if others:
            LOG.info('Retention keeps backup %s: %s is built on it', backup.id,
                     others[0].id)
            continue
        if requests.request_delete(tm, row.tenant_id, backup):
            asked.append(backup.id)
            # Its incrementals go with it.
            doomed -= {d.id for d in db_backups.descendants(backup.id)}
    if asked:
        LOG.info('Retention of schedule %s deletes backups %s', row.id, ', '.join(asked))
    return asked


_LAST_FULL_PRUNE = [None]   # when retention last looked at every schedule


def check(now=None, tm=None):
    """One look at every schedule; returns the backups requested.

    Retention runs for a schedule whose slot ran (its previous backup has
    completed by now or will be looked at next time) and for every schedule
    each ``[backup] retention_interval`` seconds (``keep_days`` ages them).
    """
    now = now or models.utcnow()
    tm = tm or tm_rpcapi.TaskManagerAPI(trove_context.admin_context())
    last = _LAST_FULL_PRUNE[0]
    everyone = last is None or (now - last).total_seconds() >= CONF.backup.retention_interval
    if everyone:
        _LAST_FULL_PRUNE[0] = now
    requested = []
    for row in backup_schedules.list_schedules():
        try:
            slot = policy.due(row, now)
            ran = slot is not None and backup_schedules.claim_slot(row.id, slot)
            if ran:
                backup_id = run_slot(tm, row, slot)
                if backup_id:
                    requested.append(backup_id)
            if ran or everyone:
                prune(tm, row, now)
        except Exception:
            LOG.exception('Backup schedule %s failed', row.id)
    if everyone:
        archive_retention.prune_all()
    return requested
