"""Queries and state changes of backups and backup strategies.

A backup's state moves NEW -> BUILDING -> COMPLETED | FAILED; running
states are NEW/BUILDING/SAVING.  At most one backup of an instance runs at
a time: :func:`create_backup` checks and inserts in one transaction.
"""
import datetime
import uuid

from oslo_log import log as logging
from sqlalchemy import select, update

from trove.common import exception
from trove.common.states import BackupState
from trove.db import models
from trove.db.session import reader, writer

LOG = logging.getLogger(__name__)
Backup = models.Backup


def _detach(session, rows):
    for row in rows:
        session.expunge(row)
    return rows


def _running_query(instance_id):
    return select(Backup).where(Backup.instance_id == instance_id,
                                Backup.deleted.is_(False),
                                Backup.state.in_(BackupState.RUNNING))


def create_backup(values):
    """Insert a NEW backup unless one of the same instance is still running.

    Raises UnprocessableEntity (422) when one runs.
    """
    with writer() as session:
        running = session.scalars(_running_query(values['instance_id'])).first()
        if running is not None:
            raise exception.UnprocessableEntity(
                detail='backup %s of instance %s is still running'
                       % (running.id, values['instance_id']))
        row = Backup(id=values.pop('id', None) or str(uuid.uuid4()),
                     state=BackupState.NEW, **values)
        session.add(row)
        session.flush()
        session.expunge(row)
    LOG.info('Backup %s of instance %s created (%s)', row.id, row.instance_id,
             row.backup_type)
    return row


def get_backup(backup_id, tenant_id=None):
    """The (not deleted) backup or BackupNotFound, also for another tenant's."""
    with reader() as session:
        query = select(Backup).where(Backup.id == backup_id, Backup.deleted.is_(False))
        if tenant_id is not None:
            query = query.where(Backup.tenant_id == tenant_id)
        row = session.scalars(query).first()
        if row is None:
            raise exception.BackupNotFound(uuid=backup_id)
        session.expunge(row)
        return row


def list_backups(tenant_id=None, instance_id=None, datastore_version_ids=None,
                 limit=None, offset=0):
    """Backups ordered by ``updated`` (newest first); ``offset`` is the marker."""
    with reader() as session:
        query = select(Backup).where(Backup.deleted.is_(False))
        if tenant_id is not None:
            query = query.where(Backup.tenant_id == tenant_id)
        if instance_id is not None:
            query = query.where(Backup.instance_id == instance_id)
        if datastore_version_ids is not None:
            query = query.where(Backup.datastore_version_id.in_(datastore_version_ids))
        query = query.order_by(Backup.updated.desc(), Backup.id).offset(offset or 0)
        if limit:
            query = query.limit(limit)
        return _detach(session, list(session.scalars(query)))


def of_schedule(schedule_id):
    """Live backups a schedule took, oldest first."""
    with reader() as session:
        return _detach(session, list(session.scalars(
            select(Backup).where(Backup.schedule_id == schedule_id,
                                 Backup.deleted.is_(False))
            .order_by(Backup.created))))


def running_backup(instance_id):
    """The running backup of an instance, or None."""
    with reader() as session:
        row = session.scalars(_running_query(instance_id)).first()
        return _detach(session, [row])[0] if row is not None else None


def list_running():
    """Every running backup (the taskmanager watches them after a restart)."""
    with reader() as session:
        query = select(Backup).where(Backup.deleted.is_(False),
                                     Backup.state.in_(BackupState.RUNNING))
        return _detach(session, list(session.scalars(query)))


def last_completed(instance_id):
    """The newest COMPLETED backup of an instance (default incremental parent)."""
    with reader() as session:
        row = session.scalars(
            select(Backup).where(Backup.instance_id == instance_id,
                                 Backup.deleted.is_(False),
                                 Backup.state == BackupState.COMPLETED)
            .order_by(Backup.created.desc())).first()
        return _detach(session, [row])[0] if row is not None else None


def update_backup(backup_id, expected_states=None, **values):
    """Set columns of a backup; with ``expected_states`` only while its state
    is one of them.  Returns True when a row changed."""
    with writer() as session:
        query = update(Backup).where(Backup.id == backup_id, Backup.deleted.is_(False))
        if expected_states is not None:
            query = query.where(Backup.state.in_(expected_states))
        result = session.execute(query.values(updated=models.utcnow(), **values))
        return result.rowcount == 1


def fail_stalled(stall_seconds, now=None):
    """Mark running backups without a report for ``stall_seconds`` FAILED;
    returns their ids."""
    now = now or models.utcnow()
    limit = now - datetime.timedelta(seconds=stall_seconds)
    failed = []
    for row in list_running():
        if row.updated < limit and update_backup(
                row.id, expected_states=BackupState.RUNNING, state=BackupState.FAILED):
            LOG.warning('Backup %s sent no report since %s; marked FAILED', row.id,
                        row.updated)
            failed.append(row.id)
    return failed


def descendants(backup_id):
    """Backups built on ``backup_id`` (children, grandchildren, ...), deepest last."""
    found, frontier = [], [backup_id]
    with reader() as session:
        while frontier:
            rows = list(session.scalars(select(Backup).where(
                Backup.parent_id.in_(frontier), Backup.deleted.is_(False))))
            _detach(session, rows)
            found.extend(rows)
            frontier = [r.id for r in rows]
    return found


def chain(backup_id):
    """The backup and its ancestors, the full backup first."""
    result, current = [], get_backup(backup_id)
    while True:
        result.insert(0, current)
        if not current.parent_id:
            return result
        if len(result) > 1000:
            raise exception.BadRequest(detail='backup chain of %s is too long' % backup_id)
        current = get_backup(current.parent_id)


def mark_deleted(backup_id):
    """Soft-delete a backup row."""
    now = models.utcnow()
    with writer() as session:
        session.execute(update(Backup).where(Backup.id == backup_id)
                        .values(deleted=True, deleted_at=now, updated=now))
    LOG.info('Backup %s deleted', backup_id)


def request_delete(backup_id, requested=True):
    """Store that a delete of ``backup_id`` was accepted; False when one was
    already (``requested=False``: withdraw it, the cast failed or the delete
    stopped)."""
    query = update(Backup).where(Backup.id == backup_id, Backup.deleted.is_(False))
    if requested:
        query = query.where(Backup.delete_requested.is_(None))
    with writer() as session:
        result = session.execute(query.values(
            delete_requested=models.utcnow() if requested else None))
        return result.rowcount == 1


def pending_deletes(older_than=None, now=None):
    """Backups whose accepted delete has not finished; with ``older_than``
    (seconds) only those requested longer ago."""
    query = select(Backup).where(Backup.deleted.is_(False),
                                 Backup.delete_requested.is_not(None))
    if older_than is not None:
        limit = (now or models.utcnow()) - datetime.timedelta(seconds=older_than)
        query = query.where(Backup.delete_requested < limit)
    with reader() as session:
        return _detach(session, list(session.scalars(query)))


# -- backup strategies ------------------------------------------------------
def list_strategies(tenant_id=None, instance_id=None):
    with reader() as session:
        query = select(models.BackupStrategy)
        if tenant_id is not None:
            query = query.where(models.BackupStrategy.tenant_id == tenant_id)
        if instance_id is not None:
            query = query.where(models.BackupStrategy.instance_id == instance_id)
        return _detach(session, list(session.scalars(query)))


def upsert_strategy(tenant_id, instance_id, backend, swift_container):
    """Create or replace the strategy of (project, instance); '' = project-wide."""
    model = models.BackupStrategy
    with writer() as session:
        row = session.scalars(select(model).where(model.tenant_id == tenant_id,
                                                  model.instance_id == instance_id)).first()
        if row is None:
            row = model(id=str(uuid.uuid4()), tenant_id=tenant_id, instance_id=instance_id)
            session.add(row)
        row.backend, row.swift_container = backend, swift_container
        session.flush()
        session.expunge(row)
        return row


def delete_strategy(tenant_id, instance_id):
    """Remove a strategy; returns whether one existed."""
    model = models.BackupStrategy
    with writer() as session:
        deleted = session.query(model).filter(model.tenant_id == tenant_id,
                                              model.instance_id == instance_id).delete()
        return deleted > 0


def container_for(tenant_id, instance_id, default):
    """Container of the instance's strategy, else the project's, else ``default``."""
    by_instance = {s.instance_id: s for s in list_strategies(tenant_id)}
    for key in (instance_id, ''):
        strategy = by_instance.get(key)
        if strategy is not None and strategy.swift_container:
            return strategy.swift_container
    return default
