"""PostgreSQL and Redis backup strategies: commands, WAL bookkeeping, layouts."""
import os
import types

import pytest

from trove.backup import info as backup_info
from trove.common import exception
from trove.conf import CONF
from trove.guestagent import backup as guest_backup
from trove.guestagent.backup import postgresql as pg
from trove.guestagent.backup import redis as rd
from trove.guestagent.engines.postgresql import config as pg_config

SEG = 16 * 1024 * 1024
TL1 = '00000001'


def _wal(n, tl=TL1):
    return '%s%08X%08X' % (tl, n // 256, n % 256)


def test_every_supported_manager_has_a_strategy():
    engine = object()
    for manager in backup_info.SUPPORTED_MANAGERS:
        assert guest_backup.get_strategy(manager, engine).engine is engine
    assert backup_info.INCREMENTAL_MANAGERS <= backup_info.SUPPORTED_MANAGERS
    assert 'redis' not in backup_info.INCREMENTAL_MANAGERS
    with pytest.raises(exception.DatastoreOperationNotSupported):
        guest_backup.get_strategy('cassandra', engine)


def test_wal_range_is_contiguous_across_log_ids():
    names = [_wal(n) for n in range(250, 262)] + ['00000001.history', 'junk', _wal(255) + '.tmp']
    assert _wal(255) == '0000000100000000000000FF'
    assert _wal(256) == '000000010000000100000000'
    got = pg.wal_range(names, _wal(254), _wal(257), SEG)
    assert got == [_wal(254), _wal(255), _wal(256), _wal(257)]
    assert pg.segment_number(_wal(257), SEG) - pg.segment_number(_wal(254), SEG) == 3


@pytest.mark.parametrize('names,first,last,message', [
    ([_wal(1), _wal(3)], _wal(1), _wal(3), 'no longer archived'),
    ([_wal(1)], _wal(1), _wal(1, '00000002'), 'another timeline'),
    ([_wal(1), _wal(2)], _wal(2), _wal(1), 'precedes'),
])
def test_wal_range_refuses_gaps_and_timelines(names, first, last, message):
    with pytest.raises(exception.EngineError) as err:
        pg.wal_range(names, first, last, SEG)
    assert message in str(err.value)


def test_parse_basebackup_log():
    text = ('pg_basebackup: initiating base backup, waiting for checkpoint to complete\n'
            'pg_basebackup: write-ahead log start point: 0/2000028 on timeline 3\n'
            'pg_basebackup: write-ahead log end point: 1/A0000100\n')
    assert pg.parse_basebackup_log(text) == ('0/2000028', 3, '1/A0000100')
    with pytest.raises(exception.EngineError):
        pg.parse_basebackup_log('pg_basebackup: error: connection failed\n')


def test_prunable_keeps_history_newer_and_temporary_files():
    names = [_wal(1), _wal(2), _wal(2) + '.00000028.backup', _wal(3), '00000001.history',
             _wal(1) + '.tmp', _wal(9, '00000000')]
    assert sorted(pg.prunable(names, _wal(3))) == sorted(
        [_wal(1), _wal(2), _wal(2) + '.00000028.backup', _wal(9, '00000000')])


@pytest.fixture
def pg_engine(tmp_path):
    paths = pg_config.Paths(datadir=str(tmp_path / 'vol' / 'data'), run_dir=str(tmp_path / 'run'),
                            log_dir=str(tmp_path / 'log'), state_dir=str(tmp_path))
    return types.SimpleNamespace(paths=paths, app=types.SimpleNamespace(version='15'))


def test_recovery_conf_targets(pg_engine, tmp_path):
    full = pg.recovery_conf(pg_engine.paths, str(tmp_path), '/w al')
    assert "recovery_target = 'immediate'" in full
    assert 'recovery_target_name' not in full
    assert "restore_command = 'cp ''/w al''/%f %p'" in full
    assert "hot_standby = off" in full and "listen_addresses = ''" in full
    assert "archive_mode = off" in full
    inc = pg.recovery_conf(pg_engine.paths, str(tmp_path), '/wal', 'trove-abc')
    assert "recovery_target_name = 'trove-abc'" in inc
    assert "recovery_target = " not in inc
    assert "recovery_target_action = 'promote'" in inc


def test_full_backup_command(pg_engine, tmp_path):
    argv = pg.PgBaseBackup(pg_engine).backup_command(str(tmp_path), None)
    assert os.path.basename(argv[0]) == 'pg_basebackup'
    for flag in ('--pgdata=-', '--format=tar', '--wal-method=fetch', '--verbose',
                 '--no-password', '--host=%s' % pg_engine.paths.run_dir,
                 '--username=%s' % CONF.postgresql.root_controller_user):
        assert flag in argv
    assert not any('password=' in a.lower() for a in argv if a != '--no-password')


def test_incremental_needs_the_parents_wal_position(pg_engine, tmp_path):
    with pytest.raises(exception.EngineError) as err:
        pg.PgBaseBackup(pg_engine).backup_command(str(tmp_path), {'to_lsn': 5})
    assert 'take a full backup' in str(err.value)


def test_restore_refuses_a_foreign_chain(pg_engine, tmp_path):
    chain = [({'format': 'xbstream'}, None, None)]
    with pytest.raises(exception.EngineError):
        pg.PgBaseBackup(pg_engine).restore(chain, str(tmp_path))


def test_engine_config_archives_wal_and_allows_local_replication(pg_engine):
    main = pg_config.render_main(pg_engine.paths, 5432, '127.0.0.1')
    assert 'archive_mode = on' in main
    archive = pg_engine.paths.wal_archive
    assert archive == os.path.join(os.path.dirname(pg_engine.paths.datadir), 'wal_archive')
    assert "cp %%p %s/%%f.tmp && mv" % archive in main
    hba = pg_config.render_hba('os_admin').splitlines()
    assert 'local   replication   os_admin   peer map=trove' in hba
    assert not any(line.startswith('host') and 'replication' in line for line in hba)


def test_redis_aof_layouts():
    v7 = rd.aof_layout(7)
    assert v7 == {'appendonlydir/appendonly.aof.1.base.rdb': None,
                  'appendonlydir/appendonly.aof.manifest':
                      'file appendonly.aof.1.base.rdb seq 1 type b\n'}
    assert rd.aof_layout(6) == {'appendonly.aof': None}


def test_redis_is_full_only(tmp_path):
    strategy = rd.RedisRDB(types.SimpleNamespace())
    with pytest.raises(exception.EngineError) as err:
        strategy.backup_command(str(tmp_path), {'backup_id': 'x'})
    assert 'full backups only' in str(err.value)
    with pytest.raises(exception.EngineError):
        strategy.restore([(None, None, None), (None, None, None)], str(tmp_path))


def test_redis_check_rejects_a_non_rdb(tmp_path):
    bad = tmp_path / 'dump.rdb'
    bad.write_bytes(b'*2\r\n$3\r\nSET\r\n')
    with pytest.raises(exception.EngineError) as err:
        rd.RedisRDB._check(str(bad))
    assert 'not an RDB' in str(err.value)
