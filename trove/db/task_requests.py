"""Requests of long instance tasks, kept in the database until the task ends.

The API saves the request of a task (create, resize, restart, configuration,
...) in the same moment it claims the instance for it, then casts it to the
taskmanager.  A cast is acknowledged by the broker before it runs, so a
taskmanager killed mid-task loses it; the stored request lets the next
taskmanager redo the task (``trove.taskmanager.recovery``).  The row goes
away when the task ends.

Quota: a task that charged quota up front (a resize charges the difference)
stores the deltas to give back in ``refund``.  Ending the task as failed or
abandoning it (delete) removes the row and applies the refund in one
transaction, so the refund happens exactly once whatever crashes when.

Secrets: the payload holds user and root passwords, so it is stored
encrypted with the controller master key (``inst_rpc_key_encr_key``).
"""
import datetime
import json

from oslo_serialization import jsonutils
from sqlalchemy import delete, insert, select, update

from trove.common import exception
from trove.common import rpc_crypto
from trove.common import states
from trove.db import models
from trove.db import quotas as db_quotas
from trove.db.session import reader, writer

Task = states.InstanceTask
DELETE = 'delete_instance'   # the action of a stored delete (claim_delete)


def _seal(payload):
    return rpc_crypto.master_fernet().encrypt(jsonutils.dumps(payload).encode()).decode()


def _open(token):
    return json.loads(rpc_crypto.master_fernet().decrypt(token.encode()))


def save(session, instance_id, action, payload, refund=None):
    """Store (replace) the request of ``instance_id``'s task in ``session``."""
    session.merge(models.TaskRequest(
        instance_id=instance_id, action=action, payload=_seal(payload),
        refund=json.dumps(refund) if refund else None, attempts=0,
        created=models.utcnow(), owner=None))


def record(instance_id, action, payload, refund=None):
    """Store a request in its own transaction."""
    with writer() as session:
        save(session, instance_id, action, payload, refund)


def record_if_absent(instance_id, action, payload):
    """Store a request unless the instance has one (a running task's wins)."""
    with writer() as session:
        if session.get(models.TaskRequest, instance_id) is None:
            save(session, instance_id, action, payload)
            return True
        return False


def load(instance_id):
    """``(action, payload, attempts)`` of the stored request, or None."""
    with reader() as session:
        row = session.get(models.TaskRequest, instance_id)
        if row is None:
            return None
        return row.action, _open(row.payload), row.attempts


def pending():
    """Instance ids with a stored request, oldest first."""
    with reader() as session:
        return list(session.scalars(select(models.TaskRequest.instance_id)
                                    .order_by(models.TaskRequest.created)))


def own(instance_id, action, owner):
    """Record that taskmanager ``owner`` runs the stored ``action`` now."""
    with writer() as session:
        session.execute(update(models.TaskRequest)
                        .where(models.TaskRequest.instance_id == instance_id,
                               models.TaskRequest.action == action)
                        .values(owner=owner))


def abandoned(alive, orphan_after):
    """Stored tasks no live taskmanager runs: ``(instance_id, action, owner,
    task_id)`` for those whose owner is not in ``alive``, and for those
    nobody started within ``orphan_after`` seconds (their cast was lost).
    ``task_id`` is the instance's task now (None for a deleted instance).
    """
    limit = models.utcnow() - datetime.timedelta(seconds=orphan_after)
    requests, instances = models.TaskRequest, models.Instance
    with reader() as session:
        rows = session.execute(
            select(requests.instance_id, requests.action, requests.owner,
                   requests.created, instances.task_id, instances.deleted)
            .outerjoin(instances, instances.id == requests.instance_id)
            .order_by(requests.created)).all()
    return [(row.instance_id, row.action, row.owner,
             None if row.deleted else row.task_id)
            for row in rows
            if row.owner not in alive and (row.owner is not None or row.created < limit)]


def take(instance_id, old_owner, new_owner):
    """Move a task from ``old_owner`` (dead, or None) to ``new_owner``; False
    when another taskmanager took it first or it ended meanwhile."""
    requests = models.TaskRequest
    owned = (requests.owner.is_(None) if old_owner is None
             else requests.owner == old_owner)
    with writer() as session:
        return session.execute(update(requests).where(
            requests.instance_id == instance_id, owned)
            .values(owner=new_owner)).rowcount == 1


def count_attempt(instance_id):
    """One more try of the stored request; returns the new count (0: none stored)."""
    with writer() as session:
        row = session.get(models.TaskRequest, instance_id)
        if row is None:
            return 0
        row.attempts += 1
        return row.attempts


def _take(session, instance_id, refund, action=None, spare_delete=False):
    """Delete the request in ``session``; apply its refund when asked.

    ``spare_delete``: leave a delete's request alone (a task ending late,
    after a delete took over, must not drop the delete's).
    """
    row = session.get(models.TaskRequest, instance_id)
    if row is None or (action is not None and row.action != action):
        return False
    if spare_delete and row.action == DELETE:
        return False
    if refund and row.refund:
        inst = session.get(models.Instance, instance_id)
        if inst is not None:
            db_quotas.adjust_in_use(session, inst.tenant_id, json.loads(row.refund))
    session.execute(delete(models.TaskRequest)
                    .where(models.TaskRequest.instance_id == instance_id))
    return True


def finish(instance_id, refund=False, action=None):
    """The task ended: drop its request; ``refund`` gives its charged quota back.

    With ``action``, only a request of that action is dropped (a late run of
    an old task must not drop the request of the next one).
    """
    with writer() as session:
        return _take(session, instance_id, refund, action, spare_delete=True)


def finish_if(instance_id, task, values):
    """The task succeeded: while the instance is still in ``task``, set
    ``values`` on it and drop the request (no refund), in one transaction.

    Returns False when the instance left ``task`` meanwhile (a delete took
    over): nothing is written, and the delete gives the quota back.
    """
    with writer() as session:
        inst = session.get(models.Instance, instance_id, with_for_update=True)
        if inst is None or inst.deleted or inst.task_id != task.code:
            return False
        session.execute(update(models.Instance).where(models.Instance.id == instance_id)
                        .values(updated=models.utcnow(), **values))
        _take(session, instance_id, refund=False)
        return True


def claim_delete(instance_id, release):
    """Move an instance to DELETING and give back its quota, in one transaction.

    ``release(inst)`` returns the quota deltas the instance holds (negative);
    the refund of a task it was running is added.  The caller makes sure
    the project's usage rows exist (quota.ensure_usages) beforehand.  Returns False when it was
    already DELETING (its quota went back then).
    """
    with writer() as session:
        inst = session.get(models.Instance, instance_id, with_for_update=True)
        if inst is None or inst.deleted:
            raise exception.InstanceNotFound(uuid=instance_id)
        old = Task.from_code(inst.task_id)
        if old is Task.DELETING:
            return False
        if not states.check_task_transition(old, Task.DELETING):
            raise exception.InvalidStateTransition(kind='task', old=old.name,
                                                   new=Task.DELETING.name)
        now = models.utcnow()
        inst.task_id, inst.task_description = Task.DELETING.code, Task.DELETING.db_text
        inst.task_start_time = inst.updated = now
        db_quotas.adjust_in_use(session, inst.tenant_id, release(inst))
        _take(session, instance_id, refund=True)
        # The delete is a task of its own: stored so that another
        # taskmanager takes it over if the one running it dies.
        session.execute(insert(models.TaskRequest).values(
            instance_id=instance_id, action=DELETE, payload=_seal({}),
            attempts=0, created=now))
        return True


class _Over(Exception):
    def __init__(self, overs):
        super().__init__(overs)
        self.overs = overs


def claim(instance_id, task, expected, action, payload, charge=None, limits=None):
    """Move an instance from one of ``expected`` to ``task``, store the task's
    request and charge ``charge`` (quota deltas, within ``limits``), all in
    one transaction.

    Returns the task it left, or None when it was in none of ``expected``;
    raises QuotaExceeded (nothing changed) when the charge does not fit.
    """
    charge = {k: int(v) for k, v in (charge or {}).items() if v}
    try:
        with writer() as session:
            inst = session.get(models.Instance, instance_id, with_for_update=True)
            if inst is None or inst.deleted:
                raise exception.InstanceNotFound(uuid=instance_id)
            old = Task.from_code(inst.task_id)
            if old not in expected:
                return None
            if not states.check_task_transition(old, task):
                raise exception.InvalidStateTransition(kind='task', old=old.name,
                                                       new=task.name)
            now = models.utcnow()
            inst.task_id, inst.task_description = task.code, task.db_text
            inst.task_start_time = inst.updated = now
            save(session, instance_id, action, payload,
                 refund={k: -v for k, v in charge.items()})
            overs = db_quotas.charge_in_use(session, inst.tenant_id, charge, limits or {})
            if overs:
                raise _Over(overs)
    except _Over as over:
        raise exception.QuotaExceeded(overs=sorted(over.overs))
    return old
