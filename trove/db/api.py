"""Queries and state changes on instances, statuses and faults.

All task changes go through :func:`set_task`, which checks the transition
table in ``trove.common.states``, persists, logs and notifies.
"""
import datetime
import uuid

from oslo_log import log as logging
from sqlalchemy import select, update

from trove.common import exception
from trove.common import states
from trove.conf import CONF
from trove.db import models
from trove.db.session import reader, writer

LOG = logging.getLogger(__name__)
Task = states.InstanceTask


def new_id():
    return str(uuid.uuid4())


def create_instance(values, also=None):
    """Insert an instance in BUILDING with its service status NEW.

    ``also(session, instance_id)`` runs in the same transaction (the API
    stores the build request there, so no instance exists without one).
    """
    task = Task.BUILDING
    with writer() as session:
        inst = models.Instance(id=values.pop('id', None) or new_id(),
                               task_id=task.code, task_description=task.db_text,
                               task_start_time=models.utcnow(), **values)
        session.add(inst)
        session.add(models.ServiceStatusRow(
            id=new_id(), instance_id=inst.id,
            status_id=states.ServiceStatus.NEW.code,
            status_description=states.ServiceStatus.NEW.description))
        session.flush()
        if also is not None:
            also(session, inst.id)
        session.expunge(inst)
    LOG.info('Instance %s created in task %s', inst.id, task.name)
    return inst


def get_instance(instance_id, tenant_id=None, deleted=False):
    """Return the instance or raise InstanceNotFound (also for another tenant's)."""
    with reader() as session:
        query = select(models.Instance).where(models.Instance.id == instance_id,
                                              models.Instance.deleted == deleted)
        if tenant_id is not None:
            query = query.where(models.Instance.tenant_id == tenant_id)
        inst = session.scalars(query).first()
        if inst is None:
            raise exception.InstanceNotFound(uuid=instance_id)
        session.expunge(inst)
        return inst


def list_instances(tenant_id=None, limit=None, marker=None):
    """Instances ordered by id; ``marker`` is the last id of the previous page."""
    with reader() as session:
        query = select(models.Instance).where(models.Instance.deleted.is_(False))
        if tenant_id is not None:
            query = query.where(models.Instance.tenant_id == tenant_id)
        if marker:
            query = query.where(models.Instance.id > marker)
        query = query.order_by(models.Instance.id)
        if limit:
            query = query.limit(limit)
        rows = list(session.scalars(query))
        for row in rows:
            session.expunge(row)
        return rows


def update_instance(instance_id, **values):
    """Set plain columns of an instance."""
    with writer() as session:
        session.execute(update(models.Instance)
                        .where(models.Instance.id == instance_id)
                        .values(updated=models.utcnow(), **values))


def set_task(instance_id, new, expected=None, fault=None, fault_details=None):
    """Move an instance to task ``new``; the one place task changes happen.

    With ``expected`` (a task or a set of tasks) the change is a conditional
    update that only succeeds while the stored task is one of them, which is
    how the API claims an instance for an action.  Returns True on success,
    False when the condition did not hold; raises InvalidStateTransition for
    a change the transition table forbids.  ``fault`` (with
    ``fault_details``) is saved with a successful change, in its transaction:
    an error task is never seen without its fault.
    """
    if isinstance(expected, Task):
        expected = {expected}
    with writer() as session:
        inst = session.get(models.Instance, instance_id)
        if inst is None or inst.deleted:
            raise exception.InstanceNotFound(uuid=instance_id)
        old = Task.from_code(inst.task_id)
        if expected is not None and old not in expected:
            return False
        if not states.check_task_transition(old, new):
            raise exception.InvalidStateTransition(kind='task', old=old.name, new=new.name)
        allowed = [t.code for t in expected] if expected else [old.code]
        result = session.execute(
            update(models.Instance)
            .where(models.Instance.id == instance_id,
                   models.Instance.task_id.in_(allowed))
            .values(task_id=new.code, task_description=new.db_text,
                    task_start_time=models.utcnow(), updated=models.utcnow()))
        if result.rowcount != 1:
            return False
        if fault is not None:
            _replace_fault(session, instance_id, fault, fault_details)
    LOG.info('Instance %s task %s -> %s', instance_id, old.name, new.name)
    if fault is not None:
        LOG.warning('Instance %s fault: %s', instance_id, fault)
    return True


def get_task(inst):
    return Task.from_code(inst.task_id)


def get_service_status(instance_id):
    """The service status row of an instance, or None."""
    with reader() as session:
        row = session.scalars(select(models.ServiceStatusRow).where(
            models.ServiceStatusRow.instance_id == instance_id)).first()
        if row is not None:
            session.expunge(row)
        return row


def guest_silent(service_row, now=None):
    """True when the guest's last report is older than agent_heartbeat_expiry
    (or it never reported): work for it is refused, its backups end."""
    if service_row is None or service_row.updated_at is None:
        return True
    age = (now or models.utcnow()) - service_row.updated_at
    return age >= datetime.timedelta(seconds=CONF.agent_heartbeat_expiry)


def set_service_status(instance_id, status, touch=True):
    """Persist a service status; ``touch`` stamps it as the latest heartbeat."""
    values = dict(status_id=status.code, status_description=status.description)
    if touch:
        values['updated_at'] = models.utcnow()
    with writer() as session:
        session.execute(update(models.ServiceStatusRow)
                        .where(models.ServiceStatusRow.instance_id == instance_id)
                        .values(**values))


def save_fault(instance_id, message, details=None, **instance_values):
    """Record why an instance failed, replacing an older fault.

    ``instance_values`` (plain columns, as for update_instance) change in the
    same transaction: a reader never sees the state the fault explains (a
    server status ERROR, say) without the fault.
    """
    with writer() as session:
        if instance_values:
            session.execute(update(models.Instance)
                            .where(models.Instance.id == instance_id)
                            .values(updated=models.utcnow(), **instance_values))
        _replace_fault(session, instance_id, message, details)
    LOG.warning('Instance %s fault: %s', instance_id, message)


def _replace_fault(session, instance_id, message, details):
    session.execute(update(models.InstanceFault)
                    .where(models.InstanceFault.instance_id == instance_id,
                           models.InstanceFault.deleted.is_(False))
                    .values(deleted=True, deleted_at=models.utcnow()))
    session.add(models.InstanceFault(id=new_id(), instance_id=instance_id,
                                     message=message, details=details))


def get_fault(instance_id):
    """The current fault of an instance, or None."""
    with reader() as session:
        row = session.scalars(
            select(models.InstanceFault)
            .where(models.InstanceFault.instance_id == instance_id,
                   models.InstanceFault.deleted.is_(False))
            .order_by(models.InstanceFault.created.desc())).first()
        if row is not None:
            session.expunge(row)
        return row


def record_sent(instance_id, method, sent):
    """Store ``sent`` for (instance, method); False when an equal or newer one is known.

    The conductor uses this to drop heartbeats that arrive out of order.
    """
    with writer() as session:
        row = session.get(models.ConductorLastSeen, (instance_id, method))
        if row is None:
            session.add(models.ConductorLastSeen(instance_id=instance_id,
                                                 method_name=method, sent=sent))
            return True
        if row.sent is not None and sent <= row.sent:
            return False
        row.sent = sent
        return True


def purge_instance(instance_id):
    """Mark an instance deleted and drop its status, faults and last-seen rows."""
    now = models.utcnow()
    with writer() as session:
        session.execute(update(models.Instance).where(models.Instance.id == instance_id)
                        .values(deleted=True, deleted_at=now, updated=now,
                                task_id=Task.NONE.code,
                                task_description=Task.NONE.db_text))
        for model in (models.ServiceStatusRow, models.InstanceFault,
                      models.ConductorLastSeen, models.TaskRequest):
            session.query(model).filter(model.instance_id == instance_id).delete()
    LOG.info('Instance %s records removed', instance_id)
