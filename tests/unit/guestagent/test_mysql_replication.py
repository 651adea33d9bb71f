"""MariaDB replication helpers: GTID parsing and ordering, backup info files,
the persisted replication config and server ids."""
import pytest

from trove.common import exception
from trove.common import positions
from trove.guestagent.engines.mysql import config
from trove.guestagent.engines.mysql import replication as repl


def test_parse_gtid_keeps_the_highest_seq_per_domain():
    assert positions.parse_gtid('0-1-42,1-2-7') == {0: 42, 1: 7}
    assert positions.parse_gtid('0-1-5,0-3-9') == {0: 9}
    assert positions.parse_gtid('') == {}
    with pytest.raises(exception.BadRequest):
        positions.parse_gtid('0-1-x')
    with pytest.raises(exception.BadRequest):
        positions.parse_gtid("0-1-2'; DROP")


@pytest.mark.parametrize('a, b, expected', [
    ('0-1-42', '0-1-42', 0),
    ('0-1-43', '0-1-42', 1),
    ('0-1-41', '0-1-42', -1),
    # A new primary continues the domain with its own server id.
    ('0-2-50', '0-1-49', 1),
    ('', '0-1-1', -1),
    ('0-1-5,1-1-3', '0-1-5', 1),
    ('0-1-5', '0-1-5,1-1-3', -1),
    # Ahead in different domains: the total decides.
    ('0-1-10,1-1-1', '0-1-1,1-1-5', 1),
])
def test_compare_gtid(a, b, expected):
    assert positions.compare_gtid(a, b) == expected
    assert repl.MariaDBReplication.compare({'gtid': a}, {'gtid': b}) == expected


def test_compare_refuses_other_shapes():
    with pytest.raises(exception.BadRequest):
        repl.MariaDBReplication.compare({'lsn': '0/1'}, {'gtid': '0-1-1'})


def test_backup_gtid_from_each_info_file():
    assert repl.backup_gtid('mariadb_backup_binlog_info',
                            'mysql-bin.000002\t385\t0-1-17\n') == '0-1-17'
    info = ("tool_name = mariabackup\nbinlog_pos = filename 'mysql-bin.000001', "
            "position '3772', GTID of the last change '0-2145779969-20'\n")
    assert repl.backup_gtid('xtrabackup_info', info) == '0-2145779969-20'
    assert repl.backup_gtid('xtrabackup_info', 'tool_name = mariabackup\n') is None
    assert repl.backup_gtid('xtrabackup_binlog_info', 'mysql-bin.000001 4\n') is None


def test_replication_cnf_persists_read_only():
    assert repl.render_replication_cnf(True) == '[mysqld]\nread_only = ON\n'
    assert repl.render_replication_cnf(False) == '[mysqld]\nread_only = OFF\n'


def test_server_id_is_unique_per_address_and_never_zero():
    assert config.server_id('127.230.1.1') != config.server_id('127.230.1.2')
    assert config.server_id('10.0.0.5') == 167772165
    assert config.server_id('0.0.0.0') == 1
    assert 0 < config.server_id('fd00::1') < 2 ** 32
    assert 0 < config.server_id('not-an-address') < 2 ** 32


def test_my_cnf_enables_gtid_binlog_with_the_server_id(tmp_path):
    paths = config.Paths(datadir=str(tmp_path / 'd'), run_dir=str(tmp_path / 'r'),
                         log_dir=str(tmp_path / 'l'), state_dir=str(tmp_path))
    lines = config.render_my_cnf(paths, 3407, '127.230.1.2').splitlines()
    for line in ('server-id = %d' % config.server_id('127.230.1.2'), 'log-bin = mysql-bin',
                 'log-slave-updates', 'relay-log = relay-bin'):
        assert line in lines
    assert lines.index('log-bin = mysql-bin') < lines.index('!includedir %s' % paths.conf_d)


def test_taskmanager_orders_positions_like_each_engine():
    from trove.guestagent.engines.postgresql import replication as pg
    from trove.guestagent.engines.redis import replication as redis
    pairs = [('mariadb', repl.MariaDBReplication, {'gtid': '0-2-50'}, {'gtid': '0-1-49'}),
             ('postgresql', pg.PostgreSQLReplication, {'lsn': '1/0'}, {'lsn': '0/FFFFFFFF'}),
             ('redis', redis.RedisReplication, {'offset': 9, 'replid': 'x'},
              {'offset': 3, 'replid': 'x'})]
    for manager, engine, ahead, behind in pairs:
        compare = positions.comparator(manager)
        assert compare(ahead, behind) == engine.compare(ahead, behind) == 1
        assert compare(behind, ahead) == -1 and compare(ahead, ahead) == 0
    with pytest.raises(exception.BadRequest):
        positions.comparator('cassandra')


def test_replication_cnf_persists_semi_synchronous_mode():
    lines = repl.render_replication_cnf(True, 10000).splitlines()
    assert lines[:2] == ['[mysqld]', 'read_only = ON']
    assert set(lines[2:]) == {'rpl_semi_sync_master_enabled = ON',
                              'rpl_semi_sync_master_wait_point = AFTER_SYNC',
                              'rpl_semi_sync_master_timeout = 10000',
                              'rpl_semi_sync_slave_enabled = ON'}


class _Admin:
    def __init__(self, slave):
        self.sql, self.slave = [], slave

    def execute(self, sql, args=None):
        self.sql.append(sql)
        if sql.startswith('SELECT @@GLOBAL.read_only'):
            return [(1,)]
        return []


def test_set_synchronous_is_live_persisted_and_restarts_the_io_thread(tmp_path, monkeypatch):
    class Engine:
        admin = _Admin(slave=True)

        class paths:
            conf_d = str(tmp_path / 'conf.d')
            state_dir = str(tmp_path)
            datadir = str(tmp_path)
    replication = repl.MariaDBReplication(Engine())
    monkeypatch.setattr(replication, '_slave_status', lambda: {'Slave_IO_Running': 'Yes'})
    replication.set_synchronous(True, 2.5)
    sql = Engine.admin.sql
    assert "SET GLOBAL rpl_semi_sync_master_wait_point = 'AFTER_SYNC'" in sql
    assert 'SET GLOBAL rpl_semi_sync_master_timeout = 2500' in sql
    assert sql[-2:] == ['STOP SLAVE IO_THREAD', 'START SLAVE IO_THREAD']
    text = (tmp_path / 'conf.d' / repl.REPLICATION_FILE).read_text()
    assert 'read_only = ON' in text and 'rpl_semi_sync_slave_enabled = ON' in text
    replication.set_synchronous(False, 2.5)
    text = (tmp_path / 'conf.d' / repl.REPLICATION_FILE).read_text()
    assert 'semi_sync' not in text
    assert "SET GLOBAL rpl_semi_sync_master_enabled = 'OFF'" in sql


def test_demote_of_a_stopped_engine_starts_it_read_only_and_semi_sync_first(tmp_path):
    order = []

    class Admin(_Admin):
        def execute(self, sql, args=None):
            order.append(sql)
            return super().execute(sql, args)

    class Engine:
        admin = Admin(slave=False)
        state = 'shutdown'

        class paths:
            conf_d = str(tmp_path / 'conf.d')
            state_dir = str(tmp_path)
            datadir = str(tmp_path)

        def status(self):
            return self.state

        def start(self):
            text = (tmp_path / 'conf.d' / repl.REPLICATION_FILE).read_text()
            order.append('start: ' + ' '.join(sorted(
                line for line in text.splitlines() if line.startswith(('read_only',
                                                                        'rpl_semi_sync_slave')))))
            self.state = 'healthy'
    replication = repl.MariaDBReplication(Engine())
    replication._store_state(sync_timeout_ms=1000)
    replication.demote('127.0.0.5', 3306, 'repl', 'secret-pw')
    assert order[0] == 'start: read_only = ON rpl_semi_sync_slave_enabled = ON'
    assert 'START SLAVE' in order
