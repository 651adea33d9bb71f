"""Finish what a previous taskmanager process left when it died.

A cast is acknowledged before it runs, so a taskmanager killed mid-task
(kill -9, OOM, host reboot) loses it.  What the API claimed is still in
the database: the instance's task and, for every long task, its stored
request (trove.db.task_requests).  At start the taskmanager

* redoes each stored request (the flows are idempotent: a build finds its
  volume and server again and re-sends ``prepare``, which a guest that
  already ran it ignores), giving up with a readable fault after
  ``MAX_ATTEMPTS`` tries so a request that kills the taskmanager cannot
  loop forever;
* resumes deletes (a delete is its own request: the DELETING task);
* ends any other task without a request in a readable state at once: a
  build whose request is gone can never finish, so it fails now instead of
  after ``usage_timeout``;
* applies again configuration changes it had not finished;
* re-sends backups still in NEW (their cast may have died with it; a guest
  ignores a second cast of the backup it is running);
* re-applies instance access rules (flows/access.reapply_all);
* makes guests follow the stored point-in-time recovery wish
  (flows/pitr.reapply_pending).
"""
import datetime
import threading

from oslo_log import log as logging
from sqlalchemy import select

from trove.common import context as trove_context
from trove.backup import info as backup_info
from trove.common import coordination
from trove.common import states
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import models
from trove.db import task_requests
from trove.db.session import reader
from trove.taskmanager.flows import access as access_flow
from trove.taskmanager.flows import backup as backup_flow
from trove.taskmanager.flows import delete as delete_flow
from trove.taskmanager.flows import restart as restart_flow
from trove.taskmanager.flows import pitr as pitr_flow

LOG = logging.getLogger(__name__)
Task = states.InstanceTask
MAX_ATTEMPTS = 3

# Stored action -> the task the instance is in while it runs.
ACTION_TASKS = {
    'create_instance': Task.BUILDING,
    'resize_flavor': Task.RESIZING,
    'resize_volume': Task.RESIZING,
    'restart': Task.REBOOTING,
    'reboot': Task.REBOOTING,
    'upgrade': Task.UPGRADING,
    'rebuild': Task.UPGRADING,
    'create_replica': Task.BUILDING,
    'detach_replica': Task.DETACHING,
    'promote_to_replica_source': Task.PROMOTING,
    'eject_replica_source': Task.EJECTING,
    'fail_over': Task.EJECTING,
}
_ACTIVE = (Task.BUILDING, Task.DELETING, Task.REBOOTING, Task.RESIZING, Task.UPGRADING,
           Task.DETACHING, Task.PROMOTING, Task.EJECTING)


def _active_instances():
    with reader() as session:
        return session.execute(
            select(models.Instance.id, models.Instance.task_id)
            .where(models.Instance.deleted.is_(False),
                   models.Instance.task_id.in_([t.code for t in _ACTIVE]))).all()


def _give_up(instance_id, task, action, message):
    """End a task that cannot be redone in its error state, quota given back."""
    task_requests.finish(instance_id, refund=True, action=action)
    errors = {Task.BUILDING: Task.BUILDING_ERROR_SERVER, Task.UPGRADING: Task.UPGRADING_ERROR}
    if action == 'create_replica':
        errors[Task.BUILDING] = Task.BUILDING_ERROR_REPLICA
    if task in errors:
        if db_api.set_task(instance_id, errors[task], expected=task):
            db_api.save_fault(instance_id, message)
    else:
        restart_flow.finish(instance_id, task, message)
    LOG.error('Instance %s: %s', instance_id, message)


def redo(manager, ctx, instance_id, task):
    """Run the stored request of ``instance_id`` again (or give up on it)."""
    stored = task_requests.load(instance_id)
    if stored is None:
        return False
    action, payload, _attempts = stored
    if ACTION_TASKS.get(action) is not task:
        # The instance moved on (a delete took over): the request is stale.
        task_requests.finish(instance_id, action=action)
        return False
    attempts = task_requests.count_attempt(instance_id)
    if attempts > MAX_ATTEMPTS:
        _give_up(instance_id, task, action,
                 'The %s request was interrupted %d times by a taskmanager failure; '
                 'giving up.' % (action, attempts - 1))
        return True
    LOG.info('Redoing %s of %s (attempt %d)', action, instance_id, attempts)
    getattr(manager, action)(ctx, instance_id=instance_id, **payload)
    return True


def resume(manager, ctx, instance_id, task):
    """Finish ``task`` of ``instance_id``: the delete, or its stored request."""
    try:
        if task is Task.DELETING:
            delete_flow.delete_instance(ctx, manager.driver, instance_id)
        else:
            redo(manager, ctx, instance_id, task)
    except Exception:
        LOG.exception('Recovery of %s failed', instance_id)


def reapply_configurations(manager, ctx):
    """Apply again the configuration changes a dead taskmanager had not finished
    (they claim no task; the apply is idempotent: the whole set is written)."""
    for instance_id in task_requests.pending():
        try:
            reapply_configuration(manager, ctx, instance_id)
        except Exception:
            LOG.exception('Re-applying the configuration of %s failed', instance_id)


def reapply_configuration(manager, ctx, instance_id):
    """Apply again the stored configuration change of ``instance_id``, if any."""
    stored = task_requests.load(instance_id)
    if stored is None or stored[0] != 'apply_configuration':
        return
    LOG.info('Re-applying the configuration change of %s', instance_id)
    manager.apply_configuration(ctx, instance_id=instance_id, **stored[1])


def resend_new_backups(ctx, older_than=None):
    """Cast again every backup no guest has reported on yet (state NEW);
    with ``older_than`` (seconds), only those created longer ago."""
    limit = None if older_than is None else (
        models.utcnow() - datetime.timedelta(seconds=older_than))
    for row in db_backups.list_running():
        if row.state != states.BackupState.NEW or (limit and row.created >= limit):
            continue
        try:
            info = backup_info.info_for(row)
            LOG.info('Re-sending backup %s of %s', row.id, row.instance_id)
            backup_flow.create_backup(ctx, info, row.instance_id)
        except Exception:
            LOG.exception('Could not re-send backup %s', row.id)


def finish_backup_deletes(ctx, older_than=None):
    """Run again every accepted backup delete that has not finished (with
    ``older_than`` seconds, only those requested longer ago); the delete is
    idempotent: what is gone already is skipped."""
    for row in db_backups.pending_deletes(older_than):
        LOG.info('Finishing the delete of backup %s', row.id)
        try:
            backup_flow.delete_backup(ctx, row.id)
        except Exception:
            LOG.exception('Could not finish the delete of backup %s', row.id)


def recover(manager):
    """End orphaned tasks now; a thread per task to redo, one for access rules.

    With several taskmanagers (a coordination backend) the others may be
    running any stored task: those are taken over only once their owner has
    left the group (trove.taskmanager.takeover), not here.
    """
    ctx = trove_context.admin_context()
    coordinated = coordination.enabled()
    for instance_id, task_id in _active_instances():
        task = Task.from_code(task_id)
        if task is not Task.DELETING and task_requests.load(instance_id) is None:
            _give_up(instance_id, task, None,
                     'Interrupted by a taskmanager restart before its request was '
                     'stored; retry the %s.' % task.name.lower())
            continue
        if coordinated:
            continue
        LOG.info('Resuming %s of %s', task.name, instance_id)
        threading.Thread(target=resume, args=(manager, ctx, instance_id, task),
                         daemon=True, name='recover-%s' % instance_id).start()
    threading.Thread(target=access_flow.reapply_all,
                     args=(ctx, manager.driver, manager.lock), daemon=True,
                     name='recover-access').start()
    if coordinated:
        return
    threading.Thread(target=reapply_configurations, args=(manager, ctx), daemon=True,
                     name='recover-configurations').start()
    threading.Thread(target=resend_new_backups, args=(ctx,), daemon=True,
                     name='recover-backups').start()
    threading.Thread(target=finish_backup_deletes, args=(ctx,), daemon=True,
                     name='recover-backup-deletes').start()
    threading.Thread(target=pitr_flow.reapply_pending, args=(ctx, manager.lock), daemon=True,
                     name='recover-pitr').start()
