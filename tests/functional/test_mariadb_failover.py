"""MariaDB failover in a set of three real private engines.

A primary (127.230.1.11) and two replicas restored from one hot
mariabackup of it.  The primary is killed; the most current replica (by
``compare`` of positions) is promoted, the other one re-attached to it
without a new copy, and the crashed old primary, started again, is demoted
to follow the new one: the eject flow of the taskmanager, driven directly.
"""
import os
import signal

import pymysql
import pytest

from tests.functional import engine_env
from tests.functional import replication_env as renv
from tests.functional.test_mariadb_replication import PASSWORD, _request
from trove.conf import CONF
from trove.guestagent.backup import mariadb as mariabackup
from trove.guestagent.engines import process
from trove.guestagent.engines.mysql import app as app_mod
from trove.guestagent.engines.mysql import manager

ADDRESSES = ('127.230.1.11', '127.230.1.12', '127.230.1.13')
PROGRAMS = ('mariadbd', 'mysqld')
REPL = {'user': 'os_repl', 'password': 'repl-Secret-4'}


def _sql(member, sql):
    conn = pymysql.connect(host=member.address, port=member.port, user='alice',
                           password=PASSWORD, database='shop', autocommit=True,
                           connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def _follow(member, primary, op='attach'):
    getattr(member.engine.replication, op)(
        primary_host=primary.address, primary_port=primary.port, **REPL)


@pytest.fixture(scope='module')
def trio():
    engine_env.ensure_engine(app_mod.BINARIES + mariabackup.BINARIES,
                             CONF.mariadb.packages + CONF.backup.packages, 'mariadbd')
    with renv.replica_set(ADDRESSES, 'mariadb', PROGRAMS, 'trove-mfail-',
                          manager.MariaDBEngine) as rs:
        primary, *replicas = rs['members']
        with renv.as_member(primary, 'mariadb'):
            primary.engine.prepare(_request())
        _sql(primary, 'CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))')
        primary.engine.replication.ensure_replication_user(**REPL)
        renv.backup_into(mariabackup.MariaBackup, primary, replicas,
                         os.path.join(rs['base'], 'backup'), 'mariadb')
        for replica in replicas:
            with renv.as_member(replica, 'mariadb'):
                replica.engine.prepare(_request())
            _follow(replica, primary)
        yield rs


def test_failover_to_the_most_current_replica(trio):
    primary, b, c = trio['members']
    for i in range(1, 6):
        _sql(primary, "INSERT INTO items VALUES (%d, 'row%d')" % (i, i))
    target = primary.engine.replication.snapshot_position()
    assert b.engine.replication.wait_for(target, 20)
    assert c.engine.replication.wait_for(target, 20)
    os.kill(primary.engine.app.running_pid(), signal.SIGKILL)
    for replica in (b, c):
        assert process.wait_for(
            lambda r=replica: not r.engine.replication.status()['healthy'], 30)
    # The taskmanager picks the replica that applied the most.
    ahead = b.engine.replication.compare(b.engine.replication.position(),
                                         c.engine.replication.position())
    best, other = (b, c) if ahead >= 0 else (c, b)
    best.engine.replication.promote()
    _follow(other, best)  # re-pointed: no new copy, no position needed
    _sql(best, "INSERT INTO items VALUES (6, 'after')")
    assert other.engine.replication.wait_for(best.engine.replication.snapshot_position(), 20)
    assert [r[0] for r in _sql(other, 'SELECT id FROM items ORDER BY id')] == list(range(1, 7))
    status = other.engine.replication.status()
    assert status['healthy'] and status['following'] == '%s:%d' % (best.address, best.port)
    trio['new_primary'] = best


def test_crashed_old_primary_rejoins_as_a_replica(trio):
    old = trio['members'][0]
    best = trio['new_primary']
    old.engine.start()  # crash recovery; it still believes it is a primary
    _follow(old, best, op='demote')
    _sql(best, "INSERT INTO items VALUES (7, 'rejoined')")
    assert old.engine.replication.wait_for(best.engine.replication.snapshot_position(), 20)
    assert _sql(old, 'SELECT name FROM items WHERE id = 7') == (('rejoined',),)
    status = old.engine.replication.status()
    assert status['role'] == 'replica' and status['healthy'], status
