"""Heartbeats applied to the service statuses, many per transaction.

The conductor collects the heartbeats of a short window and hands them
here together: one transaction and a handful of set-based statements for
the whole batch instead of four statements per heartbeat.  Per instance the
rules stay those of a single heartbeat:

* a heartbeat whose ``sent`` is not newer than the last one applied
  (``conductor_lastseen``) is dropped, so an older heartbeat never
  overwrites a newer one, even with several conductors on one database:
  the status rows are locked (FOR UPDATE, in instance order) before the
  stamps are read, and a second conductor waits there until the first
  committed;
* a current status in ``keep`` (RESTART_REQUIRED: only a restart clears
  it) stays, the heartbeat is still stamped;
* an instance without a status row (unknown or deleted) is skipped.
"""
import dataclasses

from oslo_db import api as oslo_db_api
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite

from trove.common import states
from trove.db import models
from trove.db.session import writer

KEEP = object()        # the replication column is left as it is
METHOD = 'heartbeat'   # conductor_lastseen.method_name of heartbeats


@dataclasses.dataclass(frozen=True)
class Beat:
    """One heartbeat: ``replication`` is the column's new text, None, or KEEP;
    ``archive_latest`` the newest time the guest's continuous archive holds
    (a naive UTC datetime), None when it does not archive."""
    instance_id: str
    sent: float | None
    status: states.ServiceStatus
    replication: object = KEEP
    archive_latest: object = None

    def newer_than(self, other):
        """Whether this heartbeat replaces ``other`` of the same instance.

        Without ``sent`` (a guest that does not send it) the later arrival wins.
        """
        if self.sent is None or other.sent is None:
            return True
        return self.sent > other.sent


@dataclasses.dataclass(frozen=True)
class Change:
    """An applied heartbeat: the instance's status before and after it."""
    instance_id: str
    before: states.ServiceStatus
    after: states.ServiceStatus


def newest(beats):
    """The newest heartbeat of each instance, by instance id."""
    kept = {}
    for beat in beats:
        old = kept.get(beat.instance_id)
        if old is None or beat.newer_than(old):
            kept[beat.instance_id] = beat
    return kept


@oslo_db_api.wrap_db_retry(max_retries=5, retry_interval=0.1, retry_on_deadlock=True)
def apply(beats, keep=()):
    """Apply ``beats`` in one transaction; returns the applied ones as Changes.

    Stale heartbeats and those of instances without a status row are left
    out of the result.
    """
    beats = newest(beats)
    if not beats:
        return []
    statuses, seen = models.ServiceStatusRow.__table__, models.ConductorLastSeen.__table__
    ids = sorted(beats)
    with writer() as session:
        # Each status with its last stamp, in one statement; the status rows
        # are locked in one order, so two conductors' batches cannot deadlock.
        rows = session.execute(
            select(statuses.c.instance_id, statuses.c.status_id, seen.c.sent)
            .outerjoin(seen, (seen.c.instance_id == statuses.c.instance_id)
                       & (seen.c.method_name == METHOD))
            .where(statuses.c.instance_id.in_(ids))
            .order_by(statuses.c.instance_id).with_for_update()).all()
        codes = {iid: code for iid, code, _sent in rows}
        known = {iid: sent for iid, _code, sent in rows if sent is not None}
        fresh = [beats[i] for i in ids if i in codes and _fresh(beats[i], known)]
        _stamp(session, seen, [b for b in fresh if b.sent is not None], known)
        changes = [_change(b, codes[b.instance_id], keep) for b in fresh]
        _store(session, statuses, fresh, changes)
        _store_archive(session, [b for b in fresh if b.archive_latest is not None])
    return changes


def _fresh(beat, known):
    if beat.sent is None or beat.instance_id not in known:
        return True
    last = known[beat.instance_id]
    return last is None or beat.sent > last


def _change(beat, code, keep):
    before = states.ServiceStatus.from_code(code)
    after = before if (before in keep and beat.status not in keep) else beat.status
    return Change(beat.instance_id, before, after)


def _stamp(session, seen, beats, known):
    """Record the ``sent`` of applied heartbeats: one multi-row upsert where
    the database has one (on MariaDB an executemany of UPDATEs is a round
    trip per heartbeat), else an executemany and a multi-row insert."""
    if not beats:
        return
    rows = [{'instance_id': b.instance_id, 'method_name': METHOD, 'sent': b.sent}
            for b in beats]
    upsert = _upsert(session.bind.dialect.name, seen)
    if upsert is not None:
        session.execute(upsert, rows)
        return
    again = [{'iid': b.instance_id, 'new_sent': b.sent} for b in beats
             if b.instance_id in known]
    first = [row for row in rows if row['instance_id'] not in known]
    if again:
        session.execute(update(seen).where(seen.c.instance_id == bindparam('iid'),
                                           seen.c.method_name == METHOD)
                        .values(sent=bindparam('new_sent')), again)
    if first:
        session.execute(seen.insert(), first)


def _upsert(dialect, seen):
    """INSERT of stamp rows that overwrites an existing stamp, or None."""
    if dialect == 'mysql':
        stmt = mysql.insert(seen)
        return stmt.on_duplicate_key_update(sent=stmt.inserted.sent)
    if dialect in ('sqlite', 'postgresql'):
        stmt = (sqlite if dialect == 'sqlite' else postgresql).insert(seen)
        return stmt.on_conflict_do_update(index_elements=['instance_id', 'method_name'],
                                          set_={'sent': stmt.excluded.sent})
    return None


def _store(session, statuses, beats, changes):
    """Write the statuses: one UPDATE per distinct (status, replication), so
    a batch of healthy guests is one statement."""
    groups = {}
    for beat, change in zip(beats, changes, strict=True):
        groups.setdefault((change.after, beat.replication), []).append(beat.instance_id)
    now = models.utcnow()
    for (after, replication), ids in groups.items():
        values = dict(status_id=after.code, status_description=after.description,
                      updated_at=now)
        if replication is not KEEP:
            values['replication'] = replication
        session.execute(update(statuses).where(statuses.c.instance_id.in_(ids))
                        .values(**values))


def _store_archive(session, beats):
    """The archives' newest times, one executemany for the batch; only
    while archiving is on, and never backwards."""
    if not beats:
        return
    table = models.InstancePitr.__table__
    session.execute(
        update(table).where(table.c.instance_id == bindparam('iid'),
                            table.c.enabled.is_(True), table.c.since.isnot(None),
                            (table.c.latest.is_(None)) | (table.c.latest < bindparam('t')))
        .values(latest=bindparam('t')),
        [{'iid': b.instance_id, 't': b.archive_latest} for b in beats])
