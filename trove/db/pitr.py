"""The continuous archive of each instance (table ``instance_pitr``).

The API records what the user asked for (``request``), the taskmanager what
the guest does (``mark_started`` / ``mark_stopped``) and the conductor the
newest shipped time of each heartbeat (trove.db.heartbeats).
"""
import uuid

from sqlalchemy import select, update

from trove.common.states import BackupState
from trove.db import models
from trove.db.session import reader, writer

Row = models.InstancePitr


def get(instance_id):
    """The instance's row, or None when archiving was never asked for."""
    with reader() as session:
        row = session.get(Row, instance_id)
        if row is not None:
            session.expunge(row)
        return row


def request(instance_id, enabled, container, storage_driver, session=None):
    """Record that archiving is wanted on or off.

    Turning it on gives the archive a new prefix: the segments of an earlier
    period are not mixed with the new one (whose window starts afresh).
    """
    values = {'enabled': enabled, 'updated': models.utcnow()}
    if enabled:
        values.update(container=container, storage_driver=storage_driver,
                      prefix='archive/%s/%s' % (instance_id, uuid.uuid4().hex[:8]))
    if session is not None:
        return _upsert(session, instance_id, values)
    with writer() as session:
        _upsert(session, instance_id, values)


def _upsert(session, instance_id, values):
    row = session.get(Row, instance_id, with_for_update=True)
    if row is None:
        session.add(Row(instance_id=instance_id, **values))
        return
    if values['enabled'] and row.enabled:
        return  # already on: keep the archive going into the same prefix
    for key, value in values.items():
        setattr(row, key, value)


def mark_started(instance_id, since):
    """The guest archives from ``since`` (kept when it already did)."""
    with writer() as session:
        session.execute(update(Row).where(Row.instance_id == instance_id,
                                          Row.enabled.is_(True), Row.since.is_(None))
                        .values(since=since, updated=models.utcnow()))


def mark_stopped(instance_id):
    """The guest no longer archives: the window is gone."""
    with writer() as session:
        session.execute(update(Row).where(Row.instance_id == instance_id,
                                          Row.enabled.is_(False))
                        .values(since=None, latest=None, updated=models.utcnow()))


def pending():
    """Instances whose guest may not follow the stored wish yet: on without a
    start, or off with the window still open (a taskmanager died in between)."""
    inst = models.Instance
    with reader() as session:
        return list(session.scalars(
            select(Row.instance_id).join(inst, inst.id == Row.instance_id)
            .where(inst.deleted.is_(False), inst.server_status == 'ACTIVE',
                   (Row.enabled.is_(True) & Row.since.is_(None))
                   | (Row.enabled.is_(False) & Row.since.isnot(None)))))


def full_backups(instance_id):
    """(id, created, updated, location, storage_driver) of the instance's completed full backups."""
    b = models.Backup
    with reader() as session:
        return session.execute(
            select(b.id, b.created, b.updated, b.location, b.storage_driver)
            .where(b.instance_id == instance_id, b.deleted.is_(False),
                   b.state == BackupState.COMPLETED, b.backup_type == 'full')).all()


def delete(instance_id):
    """Forget the archive of an instance (a deleted one's, once it is pruned away)."""
    with writer() as session:
        session.query(Row).filter(Row.instance_id == instance_id).delete()


def forget_prefix(instance_id, prefix):
    """The closed archive ``prefix`` was deleted: nothing to prune there any
    more (unless archiving was turned on again meanwhile)."""
    with writer() as session:
        session.execute(update(Row).where(Row.instance_id == instance_id,
                                          Row.enabled.is_(False), Row.prefix == prefix)
                        .values(prefix=None))


def with_prefix():
    """Ids of the instances whose archive may hold objects."""
    with reader() as session:
        return list(session.scalars(select(Row.instance_id).where(Row.prefix.isnot(None))))


def restorable_backups(instance_id):
    """(id, created, updated, parent_id) of the instance's completed backups,
    full and incremental."""
    b = models.Backup
    with reader() as session:
        return session.execute(
            select(b.id, b.created, b.updated, b.parent_id)
            .where(b.instance_id == instance_id, b.deleted.is_(False),
                   b.state == BackupState.COMPLETED)).all()
