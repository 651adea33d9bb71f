"""Backup schedules: due slots, the full/incremental mix, retention."""
import datetime
import types

import pytest

from trove.backup import schedule
from trove.common import exception

T0 = datetime.datetime(2026, 12, 3, 10, 0, 0)


def _schedule(pattern, created=T0, last_slot=None):
    return types.SimpleNamespace(pattern=pattern, created=created, last_slot=last_slot)


@pytest.mark.parametrize('pattern', ['', 'bad', '61 * * * *', '* * *', None, 7])
def test_a_bad_pattern_is_refused(pattern):
    with pytest.raises(exception.BadRequest):
        schedule.check_pattern(pattern)


def test_a_slot_is_due_once_after_creation_and_missed_ones_run_once():
    every_10s = _schedule('* * * * * */10', created=T0 + datetime.timedelta(seconds=3))
    assert schedule.due(every_10s, T0 + datetime.timedelta(seconds=9)) is None
    slot = schedule.due(every_10s, T0 + datetime.timedelta(seconds=12, microseconds=5))
    assert slot == T0 + datetime.timedelta(seconds=10)
    every_10s.last_slot = slot
    assert schedule.due(every_10s, T0 + datetime.timedelta(seconds=19)) is None
    # A minute without a taskmanager: the newest slot runs, once.
    assert schedule.due(every_10s, T0 + datetime.timedelta(seconds=75)) == (
        T0 + datetime.timedelta(seconds=70))
    nightly = _schedule('0 3 * * *')
    assert schedule.due(nightly, T0 + datetime.timedelta(hours=16)) is None
    assert schedule.due(nightly, T0 + datetime.timedelta(hours=17, seconds=1)) == (
        datetime.datetime(2026, 12, 4, 3, 0))


def test_every_nth_run_is_full():
    assert [schedule.is_full(n, 3) for n in range(1, 8)] == [
        True, False, False, True, False, False, True]
    assert all(schedule.is_full(n, 1) for n in range(1, 5))


def _backup(name, age_days, parent=None):
    return types.SimpleNamespace(id=name, parent_id=parent,
                                 created=T0 - datetime.timedelta(days=age_days))


def test_retention_keeps_the_newest_and_every_backup_they_are_built_on():
    # f1 <- i1 <- i2   f2 <- i3   (oldest first)
    backups = [_backup('f1', 10), _backup('i1', 9, 'f1'), _backup('i2', 8, 'i1'),
               _backup('f2', 7), _backup('i3', 6, 'f2')]
    assert schedule.to_prune(backups, None, None, T0) == []
    assert sorted(schedule.to_prune(backups, 2, None, T0)) == ['f1', 'i1', 'i2']
    # Keeping only the newest incremental keeps the full backup it needs.
    assert sorted(schedule.to_prune(backups, 1, None, T0)) == ['f1', 'i1', 'i2']
    assert sorted(schedule.to_prune(backups, None, 7.5, T0)) == ['f1', 'i1', 'i2']
    # i1 is young enough: so are the backups it is built on.
    assert schedule.to_prune(backups, None, 9.5, T0) == []
    # Either limit keeps: the newest one, or younger than 8.5 days (i2: its chain).
    assert schedule.to_prune(backups, 1, 8.5, T0) == []
    # i2 kept keeps its whole chain.
    assert schedule.to_prune(backups, 3, None, T0) == []
