"""Take over the tasks of a taskmanager that died (several taskmanagers).

With a coordination backend (trove.common.coordination) every taskmanager
records itself as the owner of each stored task it starts
(``task_requests.own``).  Every ``takeover_interval`` seconds each one
looks for stored tasks whose owner has left the group (killed, host gone:
its membership expired) or that nobody started within ``orphan_after``
seconds (the cast died with the process that had taken it off the queue),
moves each to itself with a conditional update, so exactly one survivor
wins it, and runs it again the way a restarted taskmanager does
(trove.taskmanager.recovery: the flows are idempotent).

Backups still in NEW after ``orphan_after`` seconds are cast again, and
backup deletes accepted longer ago than that are finished, by the one
taskmanager that leads that job.
"""
import threading

from oslo_log import log as logging

from trove.common import context as trove_context
from trove.common import coordination
from trove.common import states
from trove.conf import CONF
from trove.db import task_requests
from trove.taskmanager import recovery

LOG = logging.getLogger(__name__)
Task = states.InstanceTask


def _run(manager, ctx, instance_id, action, task):
    try:
        if action == 'apply_configuration':
            recovery.reapply_configuration(manager, ctx, instance_id)
        elif task is not None:
            recovery.resume(manager, ctx, instance_id, task)
        else:
            # The instance is gone: nothing can run it any more.
            task_requests.finish(instance_id, refund=True, action=action)
    except Exception:
        LOG.exception('Taking over %s of %s failed', action, instance_id)


def scan(manager):
    """One look for abandoned tasks; each one won is run on its own thread.

    Returns the ids of the instances taken over.
    """
    me = coordination.member_id()
    alive = coordination.members()
    ctx = trove_context.admin_context()
    taken = []
    for instance_id, action, owner, task_id in task_requests.abandoned(
            alive, CONF.coordination.orphan_after):
        if not task_requests.take(instance_id, owner, me):
            continue
        task = Task.from_code(task_id) if task_id is not None else None
        LOG.warning('Taking over %s of instance %s from %s', action, instance_id,
                    owner or 'a taskmanager that never started it')
        threading.Thread(target=_run, args=(manager, ctx, instance_id, action, task),
                         daemon=True, name='takeover-%s' % instance_id).start()
        taken.append(instance_id)
    return taken


def resend_backups():
    """Cast again backups no guest took within ``orphan_after``, and finish
    backup deletes accepted longer ago than that (leader only)."""
    ctx = trove_context.admin_context()
    recovery.resend_new_backups(ctx, older_than=CONF.coordination.orphan_after)
    recovery.finish_backup_deletes(ctx, older_than=CONF.coordination.orphan_after)
