"""Backup schedules: when a slot is due, full or incremental, what retention keeps.

A schedule's ``pattern`` is a cron expression (croniter: five fields, or six
with seconds last).  Its slots are the times the pattern matches; the
newest slot not later than now runs once, after the schedule was made and
after the slot that ran last (slots missed while no taskmanager ran are not
caught up one by one: the newest runs).  Every ``full_every``-th run takes a
full backup, the others an incremental one on the newest completed backup.

Retention keeps a schedule's completed backups that are among its newest
``keep_count`` or younger than ``keep_days`` (either may be unset; both
unset keeps all), and every backup a kept one is built on: pruning never
breaks an incremental chain.
"""
import datetime

from croniter import croniter

from trove.common import exception


def check_pattern(pattern):
    """``pattern`` if croniter takes it, else BadRequest."""
    if not isinstance(pattern, str) or not pattern.strip() or not croniter.is_valid(pattern):
        raise exception.BadRequest(detail='invalid cron pattern %r (five fields, or six '
                                          'with seconds last)' % (pattern,))
    return pattern.strip()


def latest_slot(pattern, now):
    """The newest time ``pattern`` matches that is not later than ``now``."""
    return croniter(pattern, now).get_prev(datetime.datetime)


def next_slot(pattern, after):
    return croniter(pattern, after).get_next(datetime.datetime)


def due(schedule, now):
    """The slot of ``schedule`` to run now, or None."""
    slot = latest_slot(schedule.pattern, now)
    if slot <= schedule.created or (schedule.last_slot and slot <= schedule.last_slot):
        return None
    return slot


def is_full(run_number, full_every):
    """Run ``run_number`` (1 for the first) takes a full backup."""
    return full_every <= 1 or (run_number - 1) % full_every == 0


def to_prune(backups, keep_count, keep_days, now):
    """Ids of ``backups`` (completed ones of a schedule) retention drops.

    ``backups`` carry ``id``, ``parent_id`` and ``created``; a backup that a
    kept one is built on (its chain) is kept too, whatever its age.
    """
    if keep_count is None and keep_days is None:
        return []
    newest_first = sorted(backups, key=lambda b: b.created, reverse=True)
    kept = set()
    for index, backup in enumerate(newest_first):
        if keep_count is not None and index < keep_count:
            kept.add(backup.id)
        elif keep_days is not None and now - backup.created < datetime.timedelta(
                days=keep_days):
            kept.add(backup.id)
    by_id = {b.id: b for b in backups}
    for backup_id in list(kept):
        parent = by_id[backup_id].parent_id
        while parent is not None and parent in by_id:
            kept.add(parent)
            parent = by_id[parent].parent_id
    return [b.id for b in newest_first if b.id not in kept]
