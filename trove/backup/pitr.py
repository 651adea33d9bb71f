"""The recoverable window of an instance's continuous archive, for the API.

Groundwork of the control-plane part of point-in-time recovery (not wired
into the API yet): pure functions over what the database and the guest
know, so the rules are in one place and tested on their own.

* The window starts at the end of the oldest completed full backup taken
  while archiving was on (before its end the archive has no consistent
  starting point) and ends at the newest time the guest reported as
  shipped (trove.guestagent.archive.shipper).
* A restore to time T starts from the newest such backup that ended at or
  before T and replays the archive up to T.  For an engine that applies a
  whole backup chain before the replay (MariaDB: the replay starts at the
  newest backup's binary log position), that may be an incremental backup
  whose chain's full backup was taken while archiving was on: less of the
  archive to replay.  PostgreSQL restores only a chain's base and replays
  the rest from the archive, so there it is the newest full backup.
* A time outside the window, a time without a zone, or a datastore with no
  archive (Redis) is a 400 that creates nothing.
"""
import dataclasses
import datetime

from trove.common import exception

# Keep in sync with trove.guestagent.archive.STRATEGIES.
PITR_MANAGERS = frozenset({'mariadb', 'mysql', 'postgresql'})
# Those whose strategy replays from the newest backup of the chain it
# restored (ArchiveStrategy.replay_backup); unit tested against the strategies.
CHAIN_BASE_MANAGERS = frozenset({'mariadb', 'mysql'})


@dataclasses.dataclass
class FullBackup:
    """A completed backup of the instance: a full one, or an incremental one
    on ``parent_id``."""

    id: str
    started: datetime.datetime
    finished: datetime.datetime
    parent_id: str | None = None


@dataclasses.dataclass
class Window:
    earliest: datetime.datetime | None
    latest: datetime.datetime | None

    def to_dict(self):
        # Times inside the window: the earliest rounded up to the second, the
        # latest down to the millisecond (MariaDB's and PostgreSQL's are
        # sub-second: a restore to it holds every commit up to it).
        return {'earliest_restorable_time': _iso(_ceil(self.earliest)),
                'latest_restorable_time': _iso_ms(self.latest)}


def _ceil(when):
    if when is None or not when.microsecond:
        return when
    return when.replace(microsecond=0) + datetime.timedelta(seconds=1)


def _iso(when):
    return when.strftime('%Y-%m-%dT%H:%M:%SZ') if when else None


def _iso_ms(when):
    """ISO 8601 UTC, with milliseconds (truncated) when there is a fraction."""
    if when is None or when.microsecond < 1000:
        return _iso(when)
    return when.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (when.microsecond // 1000)


def _utc(when):
    return when.replace(tzinfo=datetime.UTC) if when.tzinfo is None else when


def refuse_unsupported(manager):
    """400 for a datastore whose guest cannot archive its change log."""
    if manager not in PITR_MANAGERS:
        raise exception.BadRequest(
            detail='point-in-time recovery is not supported for the %s datastore%s'
                   % (manager, ' (its AOF and RDB files give snapshots, not a change log '
                               'to replay to a second)' if manager == 'redis' else ''))


def parse_restore_time(text):
    """An aware UTC datetime from ISO 8601 text with a zone; 400 otherwise."""
    try:
        when = datetime.datetime.fromisoformat(str(text).replace('Z', '+00:00'))
    except ValueError:
        raise exception.BadRequest(detail='restoreTime %r is not an ISO 8601 time' % (text,))
    if when.tzinfo is None:
        raise exception.BadRequest(detail='restoreTime %r has no time zone (use UTC, '
                                          'e.g. 2026-03-01T10:00:05Z)' % (text,))
    return when.astimezone(datetime.UTC)


def usable(backups, archive_since):
    """The full backups a restore may start from: taken while archiving was
    on, ordered by their end."""
    return [b for b in bases(backups, archive_since) if b.parent_id is None]


def bases(backups, archive_since):
    """Every backup a restore may start from, fulls and incrementals, by
    their end: its chain is complete in ``backups`` and its full backup was
    taken while archiving was on."""
    if archive_since is None:
        return []
    since = _utc(archive_since)
    by_id = {b.id: b for b in backups}

    def root(backup):
        seen = set()
        while backup is not None and backup.parent_id is not None and backup.id not in seen:
            seen.add(backup.id)
            backup = by_id.get(backup.parent_id)
        return backup

    found = []
    for backup in backups:
        full = root(backup)
        if full is not None and full.parent_id is None and _utc(full.started) >= since:
            found.append(backup)
    return sorted(found, key=lambda b: _utc(b.finished))


def window(backups, archive_since, latest):
    """The recoverable Window (both ends None when nothing is recoverable)."""
    kept = usable(backups, archive_since)
    if not kept or latest is None or _utc(latest) < _utc(kept[0].finished):
        return Window(None, None)
    return Window(_utc(kept[0].finished), _utc(latest))


def choose_backup(backups, archive_since, latest, when, incremental=False):
    """The backup to restore for time ``when``; 400 outside the window.

    ``incremental``: the engine applies a whole chain before the replay
    (CHAIN_BASE_MANAGERS), so the newest incremental ending before ``when``
    may be the base; otherwise only full backups are.
    """
    span = window(backups, archive_since, latest)
    if span.earliest is None:
        raise exception.BadRequest(detail='the instance has no recoverable window yet '
                                          '(archiving off, or no full backup since it '
                                          'was turned on)')
    if not span.earliest <= when <= span.latest:
        raise exception.BadRequest(detail='restoreTime %s is outside the recoverable window '
                                          '%s .. %s' % (_iso(when), _iso(span.earliest),
                                                        _iso(span.latest)))
    candidates = (bases if incremental else usable)(backups, archive_since)
    return [b for b in candidates if _utc(b.finished) <= when][-1]
