"""Claiming an instance for a long action, and handing the action over.

Every long action (restart, resize, replication changes, upgrade, rebuild)
first checks the instance can take it (validate_can_perform_action), then
claims it with a conditional task change that stores the taskmanager
request with it (claim_task, task_requests), then casts; a cast that cannot
be sent undoes the claim (cast_or_restore).
"""
import traceback

from oslo_log import log as logging
from sqlalchemy import func, select

from trove.api import wsgi
from trove.api.controllers import instances as instances_ctl
from trove.common import exception, quota, readiness, states
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import models
from trove.db import quotas as db_quotas
from trove.db import task_requests
from trove.db.session import reader

LOG = logging.getLogger(__name__)
Task = states.InstanceTask
Status = states.ServiceStatus
ACTIONABLE_TASKS = frozenset({Task.NONE, Task.RESTART_REQUIRED})
_RUNNING_BACKUP = ('NEW', 'BUILDING', 'SAVING')


def running_backups(instance_id):
    """How many backups of the instance are running."""
    with reader() as session:
        return session.scalar(select(func.count()).select_from(models.Backup).where(
            models.Backup.instance_id == instance_id, models.Backup.deleted.is_(False),
            models.Backup.state.in_(_RUNNING_BACKUP)))


def validate_can_perform_action(inst):
    """422 unless the server is up, the task idle, the service usable and
    reporting (readiness.refuse_silent_guest), and no backup runs."""
    task = Task.from_code(inst.task_id)
    if task not in ACTIONABLE_TASKS:
        raise exception.InstanceNotAvailable(instance_id=inst.id, task=task.name)
    if (inst.server_status or '').upper() not in ('ACTIVE', 'HEALTHY'):
        raise exception.UnprocessableEntity(
            detail='instance %s is not available: its server is %s.'
                   % (inst.id, inst.server_status or 'unknown'))
    row = db_api.get_service_status(inst.id)
    status = Status.from_code(row.status_id) if row else Status.UNKNOWN
    if not status.action_is_allowed:
        raise exception.UnprocessableEntity(
            detail='instance %s is not available: its database service is %s.'
                   % (inst.id, status.api_status))
    readiness.refuse_silent_guest(inst.id, row)
    if running_backups(inst.id):
        raise exception.UnprocessableEntity(
            detail='instance %s is not available: a backup is running.' % inst.id)


def fail_running_backups(instance_id):
    """Mark the instance's running backups FAILED (an admin reset); returns ids."""
    failed = []
    for row in db_backups.list_backups(instance_id=instance_id):
        if row.state in states.BackupState.RUNNING and db_backups.update_backup(
                row.id, expected_states=states.BackupState.RUNNING,
                state=states.BackupState.FAILED):
            failed.append(row.id)
    if failed:
        LOG.warning('Instance %s reset: backups %s marked FAILED', instance_id,
                    ', '.join(failed))
    return failed


def claim_task(inst, task, service_status=None, request=None, charge=None):
    """Conditionally move to ``task``; returns what to restore if the cast fails.

    ``request`` is ``(action, kwargs)`` of the taskmanager cast: it is stored
    with the claim (task_requests) so a taskmanager that dies with the cast
    redoes the task.  ``charge`` (quota deltas) is charged in the same
    transaction and given back if the task is abandoned.
    InstanceNotAvailable (409/422 as upstream) when another task runs.
    """
    row = db_api.get_service_status(inst.id)
    if request is None:
        before = Task.from_code(inst.task_id)
        claimed = db_api.set_task(inst.id, task, expected=ACTIONABLE_TASKS)
    else:
        if charge:
            db_quotas.ensure_usages(inst.tenant_id, quota.RESOURCES)
        before = task_requests.claim(inst.id, task, ACTIONABLE_TASKS, request[0],
                                     request[1], charge=charge,
                                     limits=quota.get_limits(inst.tenant_id))
        claimed = before is not None
        if claimed:
            LOG.info('Instance %s task %s -> %s', inst.id, before.name, task.name)
    if not claimed:
        current = db_api.get_task(db_api.get_instance(inst.id))
        raise exception.InstanceNotAvailable(instance_id=inst.id, task=current.name)
    if service_status is not None:
        db_api.set_service_status(inst.id, service_status, touch=False)
    return before, (Status.from_code(row.status_id) if row else None)


def cast_or_restore(inst, task, restore, what, send):
    """Run ``send`` (the cast); on failure undo the claim and answer 503."""
    try:
        send()
    except Exception as exc:
        LOG.error('Casting %s for %s failed: %s', what, inst.id, exc)
        before, status = restore
        task_requests.finish(inst.id, refund=True)
        db_api.set_task(inst.id, before, expected=task)
        if status is not None:
            db_api.set_service_status(inst.id, status, touch=False)
        db_api.save_fault(inst.id, 'The %s request could not be sent to the '
                                   'taskmanager.' % what, details=traceback.format_exc())
        raise instances_ctl.ServiceUnavailable(
            detail='the taskmanager is unreachable; %s of instance %s was not '
                   'started.' % (what, inst.id))
    LOG.info('Instance %s: %s requested', inst.id, what)
    return wsgi.Result(status=202)
