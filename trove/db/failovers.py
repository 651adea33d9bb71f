"""The record of automatic failovers (what failed, when, who took over, how long)."""
from sqlalchemy import select, update

from trove.db import models
from trove.db.api import new_id
from trove.db.session import reader, writer

RUNNING, COMPLETED, FAILED = 'running', 'completed', 'failed'
# Outcomes of the old primary's rejoin (``rejoin``; None while pending;
# FAILED when it gave up).
REJOINED, NOT_NEEDED = 'rejoined', 'not needed'


def start(tenant_id, old_primary_id, reason, last_seen):
    """A failover of ``old_primary_id`` begins; returns its id."""
    failover_id = new_id()
    with writer() as session:
        session.add(models.Failover(id=failover_id, tenant_id=tenant_id,
                                    old_primary_id=old_primary_id, reason=reason,
                                    state=RUNNING, last_seen=last_seen,
                                    started=models.utcnow()))
    return failover_id


def get(failover_id):
    with reader() as session:
        row = session.get(models.Failover, failover_id)
        session.expunge(row)
        return row


def running(old_primary_id):
    """The failover of ``old_primary_id`` in progress, or None."""
    with reader() as session:
        row = session.scalars(select(models.Failover).where(
            models.Failover.old_primary_id == old_primary_id,
            models.Failover.state == RUNNING)).first()
        if row is not None:
            session.expunge(row)
        return row


def promoted(failover_id, new_primary_id):
    """The new primary takes writes."""
    _set(failover_id, new_primary_id=new_primary_id, promoted=models.utcnow())


def end(failover_id, state, detail=None):
    _set(failover_id, state=state, detail=detail, ended=models.utcnow())


def _set(failover_id, **values):
    with writer() as session:
        session.execute(update(models.Failover).where(models.Failover.id == failover_id)
                        .values(**values))


def _rejoin_pending():
    return (models.Failover.state == COMPLETED) & models.Failover.rejoin.is_(None)


def pending_rejoins():
    """Completed failovers whose old primary has not rejoined yet, oldest first."""
    with reader() as session:
        rows = list(session.scalars(select(models.Failover).where(_rejoin_pending())
                                    .order_by(models.Failover.started)))
        for row in rows:
            session.expunge(row)
        return rows


def rejoin_pending(old_primary_id):
    """Whether ``old_primary_id`` lost a failover and has not rejoined yet."""
    with reader() as session:
        return session.scalars(select(models.Failover.id).where(
            _rejoin_pending(), models.Failover.old_primary_id == old_primary_id)
        ).first() is not None


def rejoin_failed_once(failover_id, detail):
    """One more failed rejoin attempt; returns how many there were."""
    with writer() as session:
        row = session.get(models.Failover, failover_id)
        row.rejoin_attempts = (row.rejoin_attempts or 0) + 1
        row.rejoin_detail = detail
        return row.rejoin_attempts


def end_rejoin(failover_id, outcome, detail):
    _set(failover_id, rejoin=outcome, rejoin_detail=detail,
         rejoined=models.utcnow() if outcome == REJOINED else None)


def list_failovers(instance_id=None, limit=100):
    """Newest first; with ``instance_id`` those it lost or won."""
    query = select(models.Failover).order_by(models.Failover.started.desc()).limit(limit)
    if instance_id is not None:
        query = query.where((models.Failover.old_primary_id == instance_id)
                            | (models.Failover.new_primary_id == instance_id))
    with reader() as session:
        rows = list(session.scalars(query))
        for row in rows:
            session.expunge(row)
        return rows
