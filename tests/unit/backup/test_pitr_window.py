"""The recoverable window and the choice of the backup for a restore time."""
import datetime

import pytest

from trove.backup import pitr
from trove.common import exception

T0 = datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.UTC)


def _at(minutes):
    return T0 + datetime.timedelta(minutes=minutes)


BACKUPS = [pitr.FullBackup('before', _at(-30), _at(-20)),  # before archiving began
           pitr.FullBackup('b1', _at(5), _at(10)),
           pitr.FullBackup('b2', _at(60), _at(70))]


def test_window_from_the_oldest_backup_taken_while_archiving():
    span = pitr.window(BACKUPS, T0, _at(90))
    assert (span.earliest, span.latest) == (_at(10), _at(90))
    assert span.to_dict() == {'earliest_restorable_time': '2026-03-01T10:10:00Z',
                              'latest_restorable_time': '2026-03-01T11:30:00Z'}
    for since, latest in ((None, _at(90)), (T0, None), (_at(80), _at(90)), (T0, _at(9))):
        assert pitr.window(BACKUPS, since, latest) == pitr.Window(None, None)
    naive = [pitr.FullBackup('n', _at(5).replace(tzinfo=None), _at(10).replace(tzinfo=None))]
    assert pitr.window(naive, T0.replace(tzinfo=None), _at(20)).earliest == _at(10)


def test_nearest_earlier_backup_and_the_edges():
    assert pitr.choose_backup(BACKUPS, T0, _at(90), _at(10)).id == 'b1'
    assert pitr.choose_backup(BACKUPS, T0, _at(90), _at(69)).id == 'b1'
    assert pitr.choose_backup(BACKUPS, T0, _at(90), _at(70)).id == 'b2'
    assert pitr.choose_backup(BACKUPS, T0, _at(90), _at(90)).id == 'b2'
    for outside in (_at(9), _at(91), _at(-25)):
        with pytest.raises(exception.BadRequest, match='outside the recoverable window'):
            pitr.choose_backup(BACKUPS, T0, _at(90), outside)
    with pytest.raises(exception.BadRequest, match='no recoverable window'):
        pitr.choose_backup(BACKUPS, None, None, _at(10))


def test_restore_time_parsing():
    assert pitr.parse_restore_time('2026-03-01T10:00:05Z') == T0.replace(second=5)
    assert pitr.parse_restore_time('2026-03-01T12:00:05+02:00') == T0.replace(second=5)
    for bad in ('2026-03-01T10:00:05', 'yesterday', 42):
        with pytest.raises(exception.BadRequest, match='restoreTime'):
            pitr.parse_restore_time(bad)


def test_redis_is_refused_clearly():
    pitr.refuse_unsupported('postgresql')
    with pytest.raises(exception.BadRequest, match='not supported for the redis datastore'):
        pitr.refuse_unsupported('redis')
    pitr.refuse_unsupported('mariadb')
    with pytest.raises(exception.BadRequest, match='cassandra'):
        pitr.refuse_unsupported('cassandra')


def test_the_managers_are_those_with_an_archive_strategy():
    from trove.guestagent import archive
    assert pitr.PITR_MANAGERS == set(archive.STRATEGIES)


def test_the_shown_window_is_inside_it():
    """A restore to the times shown is accepted: the earliest rounds up to
    the second, the latest down to the millisecond."""
    finished = _at(10) + datetime.timedelta(microseconds=250000)
    latest = _at(20) + datetime.timedelta(microseconds=750000)
    backups = [pitr.FullBackup('b1', _at(5), finished)]
    shown = pitr.window(backups, T0, latest).to_dict()
    assert shown == {'earliest_restorable_time': '2026-03-01T10:10:01Z',
                     'latest_restorable_time': '2026-03-01T10:20:00.750Z'}
    for text in shown.values():
        when = pitr.parse_restore_time(text)
        assert pitr.choose_backup(backups, T0, latest, when).id == 'b1'
    for outside in ('2026-03-01T10:10:00Z', '2026-03-01T10:20:00.751Z'):
        with pytest.raises(exception.BadRequest, match='outside'):
            pitr.choose_backup(backups, T0, latest, pitr.parse_restore_time(outside))


CHAIN = [pitr.FullBackup('before', _at(-30), _at(-20)),     # before archiving began
         pitr.FullBackup('stale', _at(-10), _at(-5), 'before'),  # its chain began before
         pitr.FullBackup('b1', _at(5), _at(10)),
         pitr.FullBackup('i1', _at(30), _at(35), 'b1'),
         pitr.FullBackup('i2', _at(40), _at(45), 'i1'),
         pitr.FullBackup('lost', _at(50), _at(55), 'gone')]   # its parent was deleted


def test_an_incremental_is_the_base_for_an_engine_that_applies_the_chain():
    assert [b.id for b in pitr.bases(CHAIN, T0)] == ['b1', 'i1', 'i2']
    assert [b.id for b in pitr.usable(CHAIN, T0)] == ['b1']
    # The window still opens at the end of the oldest full backup.
    assert pitr.window(CHAIN, T0, _at(90)).earliest == _at(10)
    for when, expected in ((_at(20), 'b1'), (_at(35), 'i1'), (_at(44), 'i1'),
                           (_at(45), 'i2'), (_at(90), 'i2')):
        assert pitr.choose_backup(CHAIN, T0, _at(90), when, incremental=True).id == expected
        assert pitr.choose_backup(CHAIN, T0, _at(90), when).id == 'b1'
    with pytest.raises(exception.BadRequest, match='outside'):
        pitr.choose_backup(CHAIN, T0, _at(90), _at(-6), incremental=True)


def test_chain_base_managers_are_those_whose_strategy_replays_from_the_newest(tmp_path):
    import types

    from trove.guestagent import archive
    engine = types.SimpleNamespace(paths=types.SimpleNamespace(state_dir=str(tmp_path)))
    for manager in pitr.PITR_MANAGERS:
        newest = archive.get_strategy(manager, engine).replay_backup(['full', 'incremental'])
        assert (newest == 'incremental') == (manager in pitr.CHAIN_BASE_MANAGERS), manager
