"""PostgreSQL streaming replication between two real private clusters.

The primary (127.230.2.1) holds data; the replica (127.230.2.2) is made
from a real pg_basebackup of it, restored with the guest's backup strategy
(trove.guestagent.backup.postgresql), which promotes the copy onto a
timeline of its own: attach rewinds it onto the primary's with pg_rewind.
The engines read their port from CONF, so every call on a member runs
inside ``as_member``.  Every process is ended by pid in the fixture
finalizer and every directory removed.
"""
import os
import signal

import psycopg
import pytest

from tests.functional import engine_env
from tests.functional import replication_env as renv
from trove.common import template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.backup import postgresql as pg_backup
from trove.guestagent.engines import process
from trove.guestagent.engines.postgresql import app as app_mod
from trove.guestagent.engines.postgresql import manager

ADDRESSES = ('127.230.2.1', '127.230.2.2')
GROUP = 'postgresql'
PROGRAMS = ('postgres',)
PASSWORD = 'alice-pg-pw'
REPL_USER, REPL_PASSWORD = 'os_repl', 'repl:Secret-2'
SLOT_A, SLOT_B = 'replica_m1', 'replica_m0'


def _request():
    return PrepareRequest(
        memory_mb=256, databases=[{'name': 'shop'}],
        users=[{'name': 'alice', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
        config_contents=template.render_config('postgresql', 256))


def _repl(member, op, **kwargs):
    """``member.engine.replication.<op>(**kwargs)`` with CONF pointed at it."""
    with renv.as_member(member, GROUP):
        return getattr(member.engine.replication, op)(**kwargs)


def _sql(member, query, args=None):
    with psycopg.connect(host=member.address, port=member.port, user='alice',
                         password=PASSWORD, dbname='shop', autocommit=True,
                         connect_timeout=5) as conn:
        cur = conn.execute(query, args)
        return cur.fetchall() if cur.description else []


def _names(member):
    return [r[0] for r in _sql(member, 'SELECT name FROM items ORDER BY id')]


def _caught_up(replica, primary, timeout=30):
    position = _repl(primary, 'snapshot_position')
    if _repl(replica, 'wait_for', position=position, timeout=timeout):
        return True
    print('not caught up with %s: %s' % (position, _repl(replica, 'status')))
    return False


@pytest.fixture(scope='module')
def pair():
    engine_env.ensure_engine(app_mod.BINARIES, CONF.postgresql.packages, 'PostgreSQL',
                             finder=app_mod.find)
    with renv.replica_set(ADDRESSES, GROUP, PROGRAMS, 'trove-prepl-',
                          manager.PostgreSQLEngine) as rs:
        primary, replica = rs['members']
        with renv.as_member(primary, GROUP):
            primary.engine.prepare(_request())
        _sql(primary, 'CREATE TABLE items (id INT PRIMARY KEY, name TEXT)')
        _sql(primary, "INSERT INTO items VALUES (1, 'apple')")
        _repl(primary, 'ensure_replication_user', user=REPL_USER, password=REPL_PASSWORD,
              replica_host=replica.address)
        # Before the backup, so the primary keeps the WAL the copy needs.
        _repl(primary, 'create_slot', name=SLOT_A)
        _repl(primary, 'create_slot', name=SLOT_A)
        renv.backup_into(pg_backup.PgBaseBackup, primary, replica,
                         os.path.join(rs['base'], 'backup'), GROUP)
        _sql(primary, "INSERT INTO items VALUES (2, 'pear')")  # after the backup
        with renv.as_member(replica, GROUP):
            replica.engine.prepare(_request())
        _repl(replica, 'attach', primary_host=primary.address, primary_port=primary.port,
              user=REPL_USER, password=REPL_PASSWORD, slot=SLOT_A)
        yield rs


def test_writes_on_the_primary_reach_the_replica(pair):
    primary, replica = pair['members']
    _sql(primary, "INSERT INTO items VALUES (3, 'plum')")
    assert _caught_up(replica, primary)
    assert _names(replica) == ['apple', 'pear', 'plum']
    status = _repl(replica, 'status')
    assert status['role'] == 'replica' and status['healthy'], status
    assert status['following'] == '%s:%d' % (primary.address, primary.port)
    assert status['error'] is None and status['read_only'] and status['lag'] == 0
    assert _repl(primary, 'status')['role'] == 'primary'
    with renv.as_member(primary, GROUP):
        slots = primary.engine.admin.execute(
            'SELECT slot_name, active FROM pg_replication_slots')
    assert slots == [(SLOT_A, True)]
    _repl(primary, 'create_slot', name='spare')
    _repl(primary, 'drop_slot', name='spare')
    _repl(primary, 'drop_slot', name='spare')  # idempotent


def test_password_is_kept_out_of_configs(pair):
    _, replica = pair['members']
    paths = replica.engine.paths
    for root in (paths.conf_d, paths.datadir):
        for name in os.listdir(root):
            path = os.path.join(root, name)
            if os.path.isfile(path) and name.endswith('.conf'):
                assert REPL_PASSWORD not in open(path).read(), path
    with renv.as_member(replica, GROUP):
        conninfo = replica.engine.admin.execute('SHOW primary_conninfo')[0][0]
    assert 'passfile=' in conninfo and REPL_PASSWORD not in conninfo


def test_replica_refuses_writes(pair):
    _, replica = pair['members']
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        _sql(replica, "INSERT INTO items VALUES (9, 'nope')")


def test_switchover_reverses_the_flow(pair, caplog):
    primary, replica = pair['members']
    _repl(primary, 'set_read_only', read_only=True)
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        _sql(primary, "INSERT INTO items VALUES (8, 'nope')")
    assert _caught_up(replica, primary)
    _repl(replica, 'promote')
    _repl(replica, 'ensure_replication_user', user=REPL_USER, password=REPL_PASSWORD,
          replica_host=primary.address)
    _repl(replica, 'create_slot', name=SLOT_B)
    _repl(primary, 'demote', primary_host=replica.address, primary_port=replica.port,
          user=REPL_USER, password=REPL_PASSWORD, slot=SLOT_B)
    # The old primary's own WAL reaches back to the fork: rewound, not copied.
    assert 'pg_rewind failed' not in caplog.text
    with renv.as_member(primary, GROUP):  # a standby keeps no slots of its own
        assert primary.engine.admin.execute('SELECT * FROM pg_replication_slots') == []
    _sql(replica, "INSERT INTO items VALUES (4, 'kiwi')")
    assert _caught_up(primary, replica)
    assert _names(primary) == ['apple', 'pear', 'plum', 'kiwi']
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        _sql(primary, "INSERT INTO items VALUES (10, 'nope')")
    assert _repl(replica, 'status')['role'] == 'primary'
    status = _repl(primary, 'status')
    assert status['role'] == 'replica' and status['healthy'], status
    assert status['following'] == '%s:%d' % (replica.address, replica.port)


def test_killed_primary_shows_a_broken_stream(pair):
    old_primary, new_primary = pair['members']
    os.kill(new_primary.engine.app.child.running_pid(), signal.SIGKILL)

    def broken():
        status = _repl(old_primary, 'status')
        return status if not status['healthy'] and status['error'] else None
    status = process.wait_for(broken, 40, interval=0.5)
    assert status, _repl(old_primary, 'status')
    assert status['role'] == 'replica'
    assert REPL_PASSWORD not in status['error']
    print('broken stream: %s' % status['error'])


def test_detach_makes_a_writable_standalone(pair):
    member, _ = pair['members']
    _repl(member, 'detach')
    _sql(member, "INSERT INTO items VALUES (6, 'lime')")
    status = _repl(member, 'status')
    assert status['role'] == 'primary' and not status['read_only']
    assert status['following'] is None
    with renv.as_member(member, GROUP):
        member.engine.restart()
    _sql(member, "INSERT INTO items VALUES (7, 'date')")
