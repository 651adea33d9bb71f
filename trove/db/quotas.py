"""Queries on quotas, quota_usages and reservations.

Usage rows are created on first use.  A new row starts from what the
project really holds (instances and volume GB from ``instances``, backups
from ``backups``) so a database that predates quotas is counted right.
``reserved`` only ever holds positive deltas: a pending decrease frees
nothing until it is committed.
"""
from oslo_db import exception as db_exc
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from trove.db import models
from trove.db.api import new_id
from trove.db.session import reader, writer

RESERVED = 'Reserved'
COMMITTED = 'Committed'
ROLLED_BACK = 'Rolledback'


def get_overrides(tenant_id):
    """``{resource: hard_limit}`` of the per-project rows in ``quotas``."""
    with reader() as session:
        rows = session.scalars(select(models.Quota).where(
            models.Quota.tenant_id == tenant_id))
        return {row.resource: row.hard_limit for row in rows}


def set_override(tenant_id, resource, hard_limit):
    """Create or change the per-project limit of ``resource``."""
    with writer() as session:
        row = session.scalars(select(models.Quota).where(
            models.Quota.tenant_id == tenant_id,
            models.Quota.resource == resource)).first()
        if row is None:
            session.add(models.Quota(id=new_id(), tenant_id=tenant_id,
                                     resource=resource, hard_limit=hard_limit))
        else:
            row.hard_limit = hard_limit
            row.updated = models.utcnow()


def get_usages(tenant_id):
    """``{resource: (in_use, reserved)}`` of the usage rows of a project."""
    with reader() as session:
        rows = session.scalars(select(models.QuotaUsage).where(
            models.QuotaUsage.tenant_id == tenant_id))
        return {row.resource: (row.in_use, row.reserved) for row in rows}


def _actual_in_use(session, tenant_id, resource):
    inst = models.Instance
    live = (inst.tenant_id == tenant_id, inst.deleted.is_(False))
    if resource == 'instances':
        return session.scalar(select(func.count()).select_from(inst).where(*live)) or 0
    if resource == 'volumes':
        return session.scalar(select(func.sum(inst.volume_size)).where(*live)) or 0
    if resource == 'backups':
        backup = models.Backup
        return session.scalar(select(func.count()).select_from(backup).where(
            backup.tenant_id == tenant_id, backup.deleted.is_(False))) or 0
    # RAM needs the flavors of the compute service; it starts from zero.
    return 0


def ensure_usages(tenant_id, resources):
    """Create the missing usage rows of a project (a race loser just retries).

    Every create and delete calls this; once the rows exist (nearly always)
    a read answers without taking the database's write lock.
    """
    with reader() as session:
        have = set(session.scalars(select(models.QuotaUsage.resource).where(
            models.QuotaUsage.tenant_id == tenant_id)))
    if not set(resources) - have:
        return
    for _attempt in range(3):
        try:
            with writer() as session:
                have = set(session.scalars(select(models.QuotaUsage.resource).where(
                    models.QuotaUsage.tenant_id == tenant_id)))
                for resource in sorted(set(resources) - have):
                    session.add(models.QuotaUsage(
                        id=new_id(), tenant_id=tenant_id, resource=resource,
                        in_use=_actual_in_use(session, tenant_id, resource),
                        reserved=0))
            return
        except (IntegrityError, db_exc.DBDuplicateEntry, db_exc.DBDeadlock):
            # oslo.db raises a duplicate row as DBDuplicateEntry; MariaDB
            # may instead pick one of the concurrent inserters as a deadlock
            # victim.  Either way another request made the rows: read again.
            continue


def reserve(tenant_id, deltas, limits):
    """Reserve ``deltas`` in one transaction; returns (reservation ids, overs).

    Each positive delta is a conditional update (``in_use + reserved +
    delta <= limit``), so concurrent API workers can never both take the
    last unit.  When any resource is over, nothing is reserved.
    """
    ids, overs = [], []
    try:
        with writer() as session:
            _reserve_rows(session, tenant_id, deltas, limits, ids, overs)
    except _Over:
        return [], overs
    return ids, []


class _Over(Exception):
    """Aborts the reserve transaction so no partial reservation stays."""


def _reserve_rows(session, tenant_id, deltas, limits, ids, overs):
    usage = models.QuotaUsage
    for resource, delta in sorted(deltas.items()):
        row_id = session.scalar(select(usage.id).where(
            usage.tenant_id == tenant_id, usage.resource == resource))
        if delta > 0:
            query = update(usage).where(usage.id == row_id)
            if limits[resource] >= 0:
                query = query.where(usage.in_use + usage.reserved + delta
                                    <= limits[resource])
            if session.execute(query.values(reserved=usage.reserved + delta,
                                            updated=models.utcnow())).rowcount != 1:
                overs.append(resource)
                continue
        res_id = new_id()
        session.add(models.Reservation(id=res_id, usage_id=row_id, delta=delta,
                                       status=RESERVED))
        ids.append(res_id)
    if overs:
        raise _Over()


def finish(reservation_ids, commit):
    """Commit (``in_use += delta``) or roll back reservations still pending."""
    usage = models.QuotaUsage
    with writer() as session:
        rows = list(session.scalars(select(models.Reservation).where(
            models.Reservation.id.in_(reservation_ids),
            models.Reservation.status == RESERVED)))
        for res in rows:
            values = {'updated': models.utcnow()}
            if res.delta > 0:
                values['reserved'] = usage.reserved - res.delta
            if commit:
                new = usage.in_use + res.delta
                # Never below zero: a project counted short must not go negative.
                values['in_use'] = case((new < 0, 0), else_=new)
            session.execute(update(usage).where(usage.id == res.usage_id).values(**values))
            res.status = COMMITTED if commit else ROLLED_BACK
            res.updated = models.utcnow()


def adjust_in_use(session, tenant_id, deltas):
    """Add ``deltas`` to ``in_use`` inside the caller's transaction (never below zero).

    For changes that must be atomic with another write, such as giving back
    the quota of an abandoned task while its request row is deleted.
    """
    usage = models.QuotaUsage
    for resource, delta in sorted(deltas.items()):
        if not delta:
            continue
        new = usage.in_use + int(delta)
        session.execute(update(usage).where(usage.tenant_id == tenant_id,
                                            usage.resource == resource)
                        .values(in_use=case((new < 0, 0), else_=new),
                                updated=models.utcnow()))


def charge_in_use(session, tenant_id, deltas, limits):
    """Add ``deltas`` to ``in_use`` in the caller's transaction, within ``limits``.

    Returns the resources that would go over their limit; the caller then
    aborts its transaction so nothing is charged.
    """
    usage = models.QuotaUsage
    overs = []
    for resource, delta in sorted(deltas.items()):
        if delta <= 0:
            adjust_in_use(session, tenant_id, {resource: delta})
            continue
        query = update(usage).where(usage.tenant_id == tenant_id, usage.resource == resource)
        if limits.get(resource, -1) >= 0:
            query = query.where(usage.in_use + usage.reserved + delta <= limits[resource])
        if session.execute(query.values(in_use=usage.in_use + delta,
                                        updated=models.utcnow())).rowcount != 1:
            overs.append(resource)
    return overs
