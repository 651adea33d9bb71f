"""MariaDB GTID replication between two real private mariadbd engines.

The primary (127.230.1.1) holds data; the replica (127.230.1.2) is made
from a real hot mariabackup of it, streamed and restored with the backup
strategy the guest uses (trove.guestagent.backup.mariadb).  No control
plane: the test drives ``engine.replication`` the way the taskmanager's
flows do through the guest RPC.  Every process is ended by pid in the
fixture finalizer and every directory removed.
"""
import os
import signal

import pymysql
import pytest

from tests.functional import engine_env, tls_certs
from tests.functional import replication_env as renv
from trove.common import template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.backup import mariadb as mariabackup
from trove.guestagent.engines import process
from trove.guestagent.engines.mysql import app as app_mod
from trove.guestagent.engines.mysql import manager

ADDRESSES = ('127.230.1.1', '127.230.1.2')
PROGRAMS = ('mariadbd', 'mysqld')
PASSWORD = 'alice-pw'
REPL_USER, REPL_PASSWORD = 'os_repl', 'repl-Secret-1'


def _request():
    return PrepareRequest(
        memory_mb=256, databases=[{'name': 'shop'}],
        users=[{'name': 'alice', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
        config_contents=template.render_config('mariadb', 256), ds_version='10.11')


def _sql(member, sql, args=None):
    """Run one statement as alice (a plain user, no READ_ONLY ADMIN)."""
    conn = pymysql.connect(host=member.address, port=member.port, user='alice',
                           password=PASSWORD, database='shop', autocommit=True,
                           connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


def _names(member):
    return [r[0] for r in _sql(member, 'SELECT name FROM items ORDER BY id')]


@pytest.fixture(scope='module')
def pair():
    engine_env.ensure_engine(app_mod.BINARIES + mariabackup.BINARIES,
                             CONF.mariadb.packages + CONF.backup.packages, 'mariadbd')
    with renv.replica_set(ADDRESSES, 'mariadb', PROGRAMS, 'trove-mrepl-',
                          manager.MariaDBEngine) as rs:
        primary, replica = rs['members']
        with renv.as_member(primary, 'mariadb'):
            primary.engine.prepare(_request())
        _sql(primary, 'CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))')
        _sql(primary, "INSERT INTO items VALUES (1, 'apple')")
        primary.engine.replication.ensure_replication_user(REPL_USER, REPL_PASSWORD)
        primary.engine.replication.ensure_replication_user(REPL_USER, REPL_PASSWORD)
        early = primary.engine.replication.snapshot_position()
        # Written after the early position but inside the backup: attach
        # must start from the backup's own GTID or it applies this twice.
        _sql(primary, "INSERT INTO items VALUES (2, 'pear')")
        renv.backup_into(mariabackup.MariaBackup, primary, replica,
                         os.path.join(rs['base'], 'backup'), 'mariadb')
        with renv.as_member(replica, 'mariadb'):
            replica.engine.prepare(_request())
        replica.engine.replication.attach(
            primary_host=primary.address, primary_port=primary.port, user=REPL_USER,
            password=REPL_PASSWORD, position=early)
        yield rs


def _caught_up(replica, primary, timeout=20):
    position = primary.engine.replication.snapshot_position()
    if replica.engine.replication.wait_for(position, timeout):
        return True
    print('not caught up with %s: %s' % (position, replica.engine.replication.status()))
    return False


def test_writes_on_the_primary_reach_the_replica(pair):
    primary, replica = pair['members']
    _sql(primary, "INSERT INTO items VALUES (3, 'plum')")
    assert _caught_up(replica, primary)
    assert _names(replica) == ['apple', 'pear', 'plum']
    status = replica.engine.replication.status()
    assert status['role'] == 'replica' and status['healthy'], status
    assert status['following'] == '%s:%d' % (primary.address, primary.port)
    assert status['error'] is None and status['read_only'] and status['lag'] == 0
    assert primary.engine.replication.status()['role'] == 'primary'
    rep = replica.engine.replication
    assert rep.compare(rep.position(), primary.engine.replication.position()) == 0


def test_replication_user_has_only_replication_rights(pair):
    primary, _ = pair['members']
    grants = primary.engine.admin.execute("SHOW GRANTS FOR 'os_repl'@'%%'")
    assert len(grants) == 1
    assert 'REPLICATION SLAVE' in grants[0][0] and 'SELECT' not in grants[0][0]
    assert 'os_repl' not in [u['name'] for u in primary.engine.list_users()]


def test_replica_refuses_writes(pair):
    _, replica = pair['members']
    with pytest.raises(pymysql.err.OperationalError) as err:
        _sql(replica, "INSERT INTO items VALUES (9, 'nope')")
    assert err.value.args[0] == 1290  # running with --read-only


def test_replica_keeps_following_after_a_restart(pair):
    primary, replica = pair['members']
    replica.engine.restart()
    _sql(primary, "INSERT INTO items VALUES (4, 'fig')")
    assert _caught_up(replica, primary)
    assert 'fig' in _names(replica)
    assert replica.engine.replication.status()['read_only']


def _tls(member, apply):
    """Change the member's TLS (restarting when it says so)."""
    with renv.as_member(member, 'mariadb'):
        if apply(member.engine.tls)['restart_required']:
            member.engine.restart()


def test_replica_follows_a_primary_that_enforces_tls(pair):
    primary, replica = pair['members']
    bundle = tls_certs.make_bundle(primary.address, 'alice')
    _tls(primary, lambda tls: tls.apply(mode='enforced', p12=bundle['p12_payload']))
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(host=primary.address, port=primary.port, user='alice',
                        password=PASSWORD, database='shop', ssl_disabled=True,
                        connect_timeout=5)
    _sql(primary, "INSERT INTO items VALUES (50, 'guava')")  # TLS: PyMySQL prefers it
    assert _caught_up(replica, primary)
    assert 'guava' in _names(replica)
    with replica.engine.admin.cursor() as cur:
        cur.execute('SHOW SLAVE STATUS')
        status = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    assert status['Master_SSL_Allowed'] == 'Yes'
    _tls(primary, lambda tls: tls.disable())
    _sql(primary, 'DELETE FROM items WHERE id = 50')
    assert _caught_up(replica, primary)  # and back without TLS
    assert 'guava' not in _names(replica)


def test_switchover_reverses_the_flow(pair):
    primary, replica = pair['members']
    primary.engine.replication.set_read_only(True)
    assert _caught_up(replica, primary)
    replica.engine.replication.promote()
    primary.engine.replication.demote(primary_host=replica.address,
                                      primary_port=replica.port, user=REPL_USER,
                                      password=REPL_PASSWORD)
    _sql(replica, "INSERT INTO items VALUES (5, 'kiwi')")
    assert _caught_up(primary, replica)
    assert _names(primary) == ['apple', 'pear', 'plum', 'fig', 'kiwi']
    with pytest.raises(pymysql.err.OperationalError):
        _sql(primary, "INSERT INTO items VALUES (10, 'nope')")
    assert replica.engine.replication.status()['role'] == 'primary'
    status = primary.engine.replication.status()
    assert status['role'] == 'replica' and status['healthy'], status
    assert status['following'] == '%s:%d' % (replica.address, replica.port)


def test_killed_primary_shows_a_broken_stream(pair):
    old_primary, new_primary = pair['members']
    os.kill(new_primary.engine.app.running_pid(), signal.SIGKILL)
    broken = process.wait_for(
        lambda: (lambda s: s if not s['healthy'] and s['error'] else None)(
            old_primary.engine.replication.status()), 30, interval=0.5)
    assert broken, old_primary.engine.replication.status()
    assert broken['role'] == 'replica'
    assert REPL_PASSWORD not in broken['error']
    print('broken stream: %s' % broken['error'])


def test_detach_makes_a_writable_standalone(pair):
    member, _ = pair['members']
    member.engine.replication.detach()
    _sql(member, "INSERT INTO items VALUES (6, 'lime')")
    status = member.engine.replication.status()
    assert status['role'] == 'primary' and not status['read_only']
    assert status['following'] is None
    member.engine.restart()  # detached and writable for good
    _sql(member, "INSERT INTO items VALUES (7, 'date')")
