"""PostgreSQL archive strategy: the stream command, keys, written extent, padding."""
import datetime
import os
import types

import pytest

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.archive import postgresql as pga
from trove.guestagent.backup import postgresql as pg
from trove.guestagent.engines.postgresql import config as pg_config

SEG = 16 * 1024 * 1024
WAL = '000000010000000000000003'


@pytest.fixture
def strategy(tmp_path):
    paths = pg_config.Paths(datadir=str(tmp_path / 'data'), run_dir=str(tmp_path / 'run'),
                            log_dir=str(tmp_path / 'log'), state_dir=str(tmp_path))
    return pga.PgReceiveWal(types.SimpleNamespace(paths=paths,
                                                  app=types.SimpleNamespace(version='15')))


def test_stream_argv_uses_the_slot_and_flushes_at_once(strategy):
    argv = strategy.stream_argv('/spool')
    assert os.path.basename(argv[0]) == 'pg_receivewal'
    for flag in ('--directory=/spool', '--slot=%s' % pga.SLOT, '--synchronous', '--no-loop',
                 '--no-password', '--host=%s' % strategy.paths.run_dir,
                 '--username=%s' % CONF.postgresql.root_controller_user):
        assert flag in argv


def test_segment_keys_and_order(strategy):
    assert strategy.segment_key(WAL) == WAL
    assert strategy.segment_key(WAL + '.partial') == WAL
    assert strategy.segment_key('00000002.history') == '00000002.history'
    for other in ('00000002.history.tmp', WAL + '.partial.tmp', 'README', WAL[:-1],
                  WAL + '.00000028.backup'):
        assert strategy.segment_key(other) is None, other
    keys = ['000000020000000000000004', '00000002.history', WAL, '000000010000000100000000']
    assert sorted(keys, key=strategy.sort_key) == [
        WAL, '000000010000000100000000', '00000002.history', '000000020000000000000004']


def test_first_segment_is_the_backup_start(strategy):
    assert strategy.first_segment({'pg_backup': 'base', 'start_wal': WAL}) == WAL
    for meta in ({'pg_backup': 'wal', 'start_wal': WAL}, {'pg_backup': 'base'}):
        with pytest.raises(exception.EngineError):
            strategy.first_segment(meta)


def _preallocated(tmp_path, data):
    path = tmp_path / (WAL + '.partial')
    with open(path, 'wb') as f:
        f.write(data)
        f.truncate(SEG)
    return str(path)


def test_written_extent_of_a_preallocated_segment(strategy, tmp_path):
    page = pga.WAL_PAGE
    # Zeros inside a page and at the end of a full page stay part of the extent.
    data = (b'\x0d\xd1' + b'x' * (page - 2)) * 5 + b'\x0d\xd1abc\0\0def' + b'\0' * 40
    path = _preallocated(tmp_path, data)
    assert strategy.written_size(path) == 5 * page + len(b'\x0d\xd1abc\0\0def')
    full_pages = (b'\x0d\xd1' + b'y' * (page - 3) + b'\0') * 3
    assert strategy.written_size(_preallocated(tmp_path, full_pages)) == 3 * page - 1
    assert strategy.written_size(_preallocated(tmp_path, b'')) == 0
    finished = tmp_path / WAL
    finished.write_bytes(b'\0' * 100)  # a finished segment is final to its size
    assert strategy.written_size(str(finished)) == 100


def test_pad_segments_only_extends_short_wal_files(tmp_path):
    (tmp_path / WAL).write_bytes(b'abc')
    (tmp_path / '00000002.history').write_bytes(b'1\t0/3000000\tno recovery target\n')
    pga.pad_segments(str(tmp_path), SEG)
    data = (tmp_path / WAL).read_bytes()
    assert len(data) == SEG and data[:3] == b'abc' and not data[3:].strip(b'\0')
    assert (tmp_path / '00000002.history').stat().st_size < 100


def test_target_time_literal():
    when = datetime.datetime(2026, 3, 1, 12, 0, 5, 250, tzinfo=datetime.timezone(
        datetime.timedelta(hours=2)))
    assert pga.pg_time(when) == '2026-03-01 10:00:05.000250+00'
    with pytest.raises(exception.BadRequest):
        pga.pg_time(datetime.datetime(2026, 3, 1))


def test_recovery_conf_with_a_target_time(tmp_path):
    paths = pg_config.Paths(datadir=str(tmp_path / 'd'), run_dir=str(tmp_path / 'r'),
                            log_dir=str(tmp_path / 'l'), state_dir=str(tmp_path))
    text = pg.recovery_conf(paths, str(tmp_path), '/seg', target={
        'recovery_target_time': '2026-03-01 10:00:05.000250+00',
        'recovery_target_inclusive': True})
    assert "recovery_target_time = '2026-03-01 10:00:05.000250+00'" in text
    assert 'recovery_target_inclusive = on' in text
    assert 'recovery_target = ' not in text and 'recovery_target_name' not in text
    to_end = pg.recovery_conf(paths, str(tmp_path), '/seg', target={})
    assert 'recovery_target' not in to_end.replace('recovery_target_action', '')
