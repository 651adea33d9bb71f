"""PostgreSQL failover in a set of three real private clusters.

A primary (127.230.2.11) and two standbys restored from one pg_basebackup
of it, each streaming through its own slot.  The primary is killed; the
most current standby is promoted, the other re-pointed to it (a new slot
on the new primary), and the crashed old primary, started again, is
demoted with pg_rewind: the eject flow of the taskmanager, driven directly.
"""
import os
import signal

import pytest

from tests.functional import engine_env
from tests.functional import replication_env as renv
from tests.functional.test_postgresql_replication import GROUP, _repl, _request, _sql
from trove.conf import CONF
from trove.guestagent.backup import postgresql as pg_backup
from trove.guestagent.engines import process
from trove.guestagent.engines.postgresql import app as app_mod
from trove.guestagent.engines.postgresql import manager

ADDRESSES = ('127.230.2.11', '127.230.2.12', '127.230.2.13')
PROGRAMS = ('postgres',)
REPL = {'user': 'os_repl', 'password': 'repl-Secret-5'}


def _follow(member, primary, op='attach'):
    _repl(member, op, primary_host=primary.address, primary_port=primary.port,
          slot='replica_' + member.name, **REPL)


@pytest.fixture(scope='module')
def trio():
    engine_env.ensure_engine(app_mod.BINARIES, CONF.postgresql.packages, 'PostgreSQL',
                             finder=app_mod.find)
    with renv.replica_set(ADDRESSES, GROUP, PROGRAMS, 'trove-pfail-',
                          manager.PostgreSQLEngine) as rs:
        primary, *standbys = rs['members']
        with renv.as_member(primary, GROUP):
            primary.engine.prepare(_request())
        _sql(primary, 'CREATE TABLE items (id INT PRIMARY KEY, name TEXT)')
        _repl(primary, 'ensure_replication_user', replica_host=None, **REPL)
        for standby in standbys:
            _repl(primary, 'create_slot', name='replica_' + standby.name)
        renv.backup_into(pg_backup.PgBaseBackup, primary, standbys,
                         os.path.join(rs['base'], 'backup'), GROUP)
        for standby in standbys:
            with renv.as_member(standby, GROUP):
                standby.engine.prepare(_request())
            _follow(standby, primary)
        yield rs


def test_failover_to_the_most_current_standby(trio):
    primary, b, c = trio['members']
    for i in range(1, 6):
        _sql(primary, "INSERT INTO items VALUES (%d, 'row%d')" % (i, i))
    target = _repl(primary, 'snapshot_position')
    assert _repl(b, 'wait_for', position=target, timeout=20)
    assert _repl(c, 'wait_for', position=target, timeout=20)
    os.kill(primary.engine.app.child.running_pid(), signal.SIGKILL)
    for standby in (b, c):
        assert process.wait_for(lambda s=standby: not _repl(s, 'status')['healthy'], 30)
    ahead = b.engine.replication.compare(_repl(b, 'position'), _repl(c, 'position'))
    best, other = (b, c) if ahead >= 0 else (c, b)
    _repl(best, 'promote')
    _repl(best, 'ensure_replication_user', replica_host=None, **REPL)
    _repl(best, 'create_slot', name='replica_' + other.name)
    _follow(other, best)
    _sql(best, "INSERT INTO items VALUES (6, 'after')")
    assert _repl(other, 'wait_for', position=_repl(best, 'snapshot_position'), timeout=20)
    assert [r[0] for r in _sql(other, 'SELECT id FROM items ORDER BY id')] == list(range(1, 7))
    status = _repl(other, 'status')
    assert status['healthy'] and status['following'] == '%s:%d' % (best.address, best.port)
    trio['new_primary'] = best


def test_crashed_old_primary_rejoins_as_a_standby(trio, caplog):
    old = trio['members'][0]
    best = trio['new_primary']
    _repl(best, 'create_slot', name='replica_' + old.name)
    _follow(old, best, op='demote')  # crash recovery, then pg_rewind
    assert 'pg_rewind failed' not in caplog.text
    _sql(best, "INSERT INTO items VALUES (7, 'rejoined')")
    assert _repl(old, 'wait_for', position=_repl(best, 'snapshot_position'), timeout=20)
    assert _sql(old, 'SELECT name FROM items WHERE id = 7') == [('rejoined',)]
    status = _repl(old, 'status')
    assert status['role'] == 'replica' and status['healthy'], status
