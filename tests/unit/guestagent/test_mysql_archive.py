"""MariaDB archive strategy: segment names and order, the backup's binlog
position, the stop time of a restore, and the streaming command."""
import dataclasses
import datetime
import os

import pytest

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.archive import base
from trove.guestagent.archive import mariadb as archive
from trove.guestagent.backup import mariadb as mariabackup
from trove.guestagent.engines.mysql import config


class Engine:
    def __init__(self, root):
        self.paths = config.Paths(datadir=os.path.join(root, 'data'),
                                  run_dir=os.path.join(root, 'run'),
                                  log_dir=os.path.join(root, 'log'),
                                  state_dir=os.path.join(root, 'state'))
        for d in dataclasses.astuple(self.paths):
            os.makedirs(d)


def test_segments_are_binlogs_in_number_order(tmp_path):
    strategy = archive.MariaDBArchive(Engine(str(tmp_path)))
    assert isinstance(strategy, base.ArchiveStrategy)
    for name in ('mysql-bin.000010', 'mysql-bin.000009', 'mysql-bin.1000000',
                 'mysql-bin.index', 'aria_log.00000001', 'mysql-bin.000011.tmp'):
        (tmp_path / name).write_text('')
    assert strategy.segment_key('mysql-bin.000009') == 'mysql-bin.000009'
    assert strategy.segment_key('mysql-bin.index') is None
    assert strategy.segment_key('aria_log.00000001') is None
    assert archive.list_binlogs(str(tmp_path)) == [
        'mysql-bin.000009', 'mysql-bin.000010', 'mysql-bin.1000000']
    assert archive.list_binlogs(str(tmp_path), 'mysql-bin.000010') == [
        'mysql-bin.000010', 'mysql-bin.1000000']
    assert strategy.sort_key('mysql-bin.1000000') > strategy.sort_key('mysql-bin.999999')
    assert strategy.newest_segment(str(tmp_path)) == 'mysql-bin.1000000'
    assert archive.list_binlogs(str(tmp_path / 'missing')) == []
    with pytest.raises(ValueError):
        archive.binlog_number('mysql-bin.index')


def test_backup_metadata_records_the_binlog_position(tmp_path, monkeypatch):
    lsn = tmp_path / 'lsn'
    lsn.mkdir()
    (lsn / 'xtrabackup_checkpoints').write_text('backup_type = full-backuped\nto_lsn = 9\n')
    (lsn / 'xtrabackup_info').write_text(
        "tool_name = mariabackup\nbinlog_pos = filename 'mysql-bin.000002', "
        "position '9125', GTID of the last change '0-2135796225-41'\n")
    meta = mariabackup.MariaBackup(None).backup_metadata(str(tmp_path))
    assert meta['binlog_file'] == 'mysql-bin.000002'
    assert meta['binlog_position'] == 9125 and meta['binlog_gtid'] == '0-2135796225-41'
    strategy = archive.MariaDBArchive(Engine(str(tmp_path / 'e')))
    assert strategy.first_segment(meta) == 'mysql-bin.000002'
    (lsn / 'xtrabackup_info').write_text('tool_name = mariabackup\n')
    assert archive.backup_position(str(lsn)) == {}
    with pytest.raises(exception.EngineError, match='no binary log position'):
        strategy.first_segment({'to_lsn': 9})


@pytest.mark.parametrize('target, expected', [
    # The stop is exclusive: commits stamped in T's second are not replayed by it.
    ('2026-12-03T14:07:03+00:00', '2026-12-03 14:07:03'),
    ('2026-12-03T14:07:03.999999+00:00', '2026-12-03 14:07:03'),
    ('2026-12-03T23:59:59.5+00:00', '2026-12-03 23:59:59'),
    # Any zone: mariadb-binlog runs with TZ=UTC.
    ('2026-12-03T15:07:03.2+01:00', '2026-12-03 14:07:03'),
])
def test_stop_datetime_is_the_start_of_the_second_in_utc(target, expected):
    assert archive.stop_datetime(datetime.datetime.fromisoformat(target)) == expected


T = datetime.datetime(2026, 3, 1, 10, 0, 5, 300000, tzinfo=datetime.UTC)
KEYS = ['mysql-bin.000002', 'mysql-bin.000003', 'mysql-bin.000004']


def test_replay_runs_stop_at_the_sample_then_by_commit_stamp():
    # A sample in a later file: up to it, then on to T's second.
    assert archive.replay_runs(KEYS, 900, ('mysql-bin.000003', 5000), T) == [
        (['--start-position=900', '--stop-position=5000'], KEYS[:2]),
        (['--start-position=5000', '--stop-datetime=2026-03-01 10:00:05'], KEYS[1:])]
    # In the backup's own file, past its position.
    assert archive.replay_runs(KEYS, 900, ('mysql-bin.000002', 1200), T) == [
        (['--start-position=900', '--stop-position=1200'], KEYS[:1]),
        (['--start-position=1200', '--stop-datetime=2026-03-01 10:00:05'], KEYS)]
    # None, or one the backup already holds: by commit stamp from the backup.
    plain = [(['--start-position=900', '--stop-datetime=2026-03-01 10:00:05'], KEYS)]
    for sample in (None, ('mysql-bin.000002', 900), ('mysql-bin.000002', 400),
                   ('mysql-bin.000001', 9000)):
        assert archive.replay_runs(KEYS, 900, sample, T) == plain, sample


def test_last_commit_stamp_is_the_last_gtid_header():
    text = [
        '# at 9542\n',
        '#261203 14:11:17 server id 2135817729  end_log_pos 9584 CRC32 0x7507c87b '
        '\tGTID 0-2135817729-185 trans\n',
        '#261203 14:11:19 server id 2135817729  end_log_pos 9923 CRC32 0x895e3b84 '
        '\tTable_map: `shop`.`spans` mapped to number 22\n',
        '#261203  9:05:20 server id 7  end_log_pos 9814 CRC32 0x34e33fbf \tGTID 0-7-186 trans\n',
        '#261203 14:11:21 server id 7  end_log_pos 10155 CRC32 0xa2da884a \tXid = 55\n',
    ]
    assert archive.last_commit_stamp(text) == datetime.datetime(
        2026, 12, 3, 9, 5, 20, tzinfo=datetime.UTC)
    assert archive.last_commit_stamp(text[:1]) is None


def test_stop_datetime_needs_a_zone():
    with pytest.raises(exception.BadRequest):
        archive.stop_datetime(datetime.datetime(2026, 12, 3, 14, 7, 3))


def test_stream_argv_resumes_at_the_newest_spool_file(tmp_path, monkeypatch):
    monkeypatch.setattr(archive.process, 'find_binary', lambda name: '/bin/' + name)
    CONF.set_override('host_address', '10.0.0.7')
    try:
        eng = Engine(str(tmp_path))
        strategy = archive.MariaDBArchive(eng)
        spool = tmp_path / 'spool'
        spool.mkdir()
        with pytest.raises(exception.EngineError, match='not prepared'):
            strategy.stream_argv(str(spool))
        archive._write_option_file(strategy.defaults_file, 'os_archive', 'pw-x',
                                   eng.paths.socket)
        assert oct(os.stat(strategy.defaults_file).st_mode & 0o777) == '0o600'
        with pytest.raises(exception.EngineError, match='no binary log'):
            strategy.stream_argv(str(spool))
        # Empty spool: the oldest file of the engine's index (read from disk).
        (tmp_path / 'data' / 'mysql-bin.index').write_text(
            './mysql-bin.000003\n./mysql-bin.000004\n')
        argv = strategy.stream_argv(str(spool))
        assert argv[0] == '/bin/mariadb-binlog' and argv[-1] == 'mysql-bin.000003'
        assert {'--read-from-remote-server', '--raw', '--stop-never'} <= set(argv)
        assert '--result-file=%s/' % spool in argv
        assert '--stop-never-slave-server-id=%d' % config.server_id('10.0.0.7') in argv
        assert not any('pw-x' in a for a in argv)
        assert strategy.stream_argv(str(spool), start_file='mysql-bin.000004')[-1] == \
            'mysql-bin.000004'
        (spool / 'mysql-bin.000004').write_bytes(b'\xfebin')
        (spool / 'mysql-bin.000005').write_bytes(b'\xfebin')
        assert strategy.stream_argv(str(spool), start_file='mysql-bin.000004')[-1] == \
            'mysql-bin.000005'
    finally:
        CONF.clear_override('host_address')


def test_replay_refuses_an_incomplete_archive(tmp_path):
    strategy = archive.MariaDBArchive(Engine(str(tmp_path)))
    segs = tmp_path / 'segs'
    segs.mkdir()
    when = datetime.datetime(2026, 12, 3, tzinfo=datetime.UTC)
    req = base.ReplayRequest(segments_dir=str(segs), target_time=when,
                             backup_meta={'binlog_file': 'mysql-bin.000002',
                                          'binlog_position': 385})
    with pytest.raises(exception.EngineError, match='lacks binary log mysql-bin.000002'):
        strategy.replay(req)
    for n in (2, 3, 5):
        (segs / ('mysql-bin.%06d' % n)).write_bytes(b'\xfebin')
    with pytest.raises(exception.EngineError, match='misses binary log number 4'):
        strategy.replay(req)
    with pytest.raises(exception.BadRequest, match='time zone'):
        strategy.replay(dataclasses.replace(req, target_time=when.replace(tzinfo=None)))


def test_archive_dispatch_start_and_replay_backup(tmp_path):
    """get_strategy picks this strategy; a backup sets where an empty spool
    starts; the replay continues from the newest backup of a chain."""
    from trove.guestagent import archive as archives
    from trove.guestagent.archive import postgresql as pga
    eng = Engine(str(tmp_path / 'e'))
    for manager in ('mariadb', 'mysql'):
        assert isinstance(archives.get_strategy(manager, eng), archive.MariaDBArchive)
    strategy = archives.get_strategy('mariadb', eng)
    assert strategy.volatile_offsets('mysql-bin.000001') == (archive.IN_USE_FLAG_OFFSET,)
    with open(os.path.join(eng.paths.datadir, 'mysql-bin.index'), 'w') as f:
        f.write('./mysql-bin.000001\n./mysql-bin.000002\n./mysql-bin.000003\n')
    with open(strategy.defaults_file, 'w') as f:
        f.write('[client]\n')
    spool = tmp_path / 'spool'
    spool.mkdir()
    assert strategy.stream_argv(str(spool))[-1] == 'mysql-bin.000001'  # the oldest
    strategy.start_from({'binlog_file': 'mysql-bin.000002', 'binlog_position': 9})
    assert strategy.stream_argv(str(spool))[-1] == 'mysql-bin.000002'
    (spool / 'mysql-bin.000003').write_bytes(b'')
    assert strategy.stream_argv(str(spool))[-1] == 'mysql-bin.000003'  # resumes
    with pytest.raises(exception.EngineError, match='no binary log position'):
        strategy.start_from({})
    chain = [{'id': 'full'}, {'id': 'inc-1'}, {'id': 'inc-2'}]
    assert strategy.replay_backup(chain) == {'id': 'inc-2'}
    assert pga.PgReceiveWal(eng).replay_backup(chain) == {'id': 'full'}
    assert pga.PgReceiveWal(eng).volatile_offsets('000000010000000000000001') == ()


def test_mariadb_samples_positions_postgresql_does_not(tmp_path):
    assert archive.MariaDBArchive(Engine(str(tmp_path))).samples_positions is True
    from trove.guestagent.archive import postgresql
    assert postgresql.PgReceiveWal.samples_positions is False
