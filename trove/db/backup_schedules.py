"""Backup schedules of instances (see trove.backup.schedule)."""
from sqlalchemy import func, select, update

from trove.common import exception
from trove.db import models
from trove.db.api import new_id
from trove.db.session import reader, writer

Schedule = models.BackupSchedule


class ScheduleNotFound(exception.NotFound):
    message = 'Backup schedule %(id)s could not be found.'


def _detach(session, rows):
    for row in rows:
        session.expunge(row)
    return rows


def create(tenant_id, instance_id, name, pattern, full_every, keep_count, keep_days):
    with writer() as session:
        row = Schedule(id=new_id(), tenant_id=tenant_id, instance_id=instance_id, name=name,
                       pattern=pattern, full_every=full_every, keep_count=keep_count,
                       keep_days=keep_days, created=models.utcnow(), runs=0)
        session.add(row)
        session.flush()
        session.expunge(row)
        return row


def get(schedule_id, instance_id=None):
    with reader() as session:
        row = session.get(Schedule, schedule_id)
        if row is None or (instance_id is not None and row.instance_id != instance_id):
            raise ScheduleNotFound(id=schedule_id)
        session.expunge(row)
        return row


def list_schedules(instance_id=None):
    query = select(Schedule).order_by(Schedule.created)
    if instance_id is not None:
        query = query.where(Schedule.instance_id == instance_id)
    with reader() as session:
        return _detach(session, list(session.scalars(query)))


def count(instance_id):
    with reader() as session:
        return session.scalar(select(func.count()).select_from(Schedule).where(
            Schedule.instance_id == instance_id))


def delete(schedule_id):
    with writer() as session:
        session.query(Schedule).filter(Schedule.id == schedule_id).delete()


def delete_of_instance(instance_id):
    with writer() as session:
        session.query(Schedule).filter(Schedule.instance_id == instance_id).delete()


def claim_slot(schedule_id, slot):
    """Take ``slot`` for this run; False when it (or a later one) ran already.

    A conditional update: of several taskmanagers (or a leader that changed
    mid-tick) exactly one claims a slot.
    """
    with writer() as session:
        result = session.execute(
            update(Schedule).where(Schedule.id == schedule_id,
                                   (Schedule.last_slot.is_(None))
                                   | (Schedule.last_slot < slot))
            .values(last_slot=slot, runs=Schedule.runs + 1))
        return result.rowcount == 1


def ran(schedule_id, backup_id=None, error=None):
    with writer() as session:
        session.execute(update(Schedule).where(Schedule.id == schedule_id)
                        .values(last_backup_id=backup_id, last_error=error))
