"""A PostgreSQL replica attached the way the taskmanager's create flow does
it: the slot is made on the primary only after the snapshot was restored,
by which time the primary has recycled the WAL written since the backup.
The attach still ends with a streaming standby (pg_rewind, else a base
backup of the primary through the slot).  Real private clusters on
127.230.2.21/.22; every process ended by pid, every directory removed.
"""
import os

import pytest

from tests.functional import engine_env
from tests.functional import replication_env as renv
from tests.functional.test_postgresql_replication import GROUP, _repl, _request, _sql
from trove.conf import CONF
from trove.guestagent.backup import postgresql as pg_backup
from trove.guestagent.engines.postgresql import app as app_mod
from trove.guestagent.engines.postgresql import manager

ADDRESSES = ('127.230.2.21', '127.230.2.22')
REPL = {'user': 'os_repl', 'password': 'repl-Secret-6'}


@pytest.fixture(scope='module')
def pair():
    engine_env.ensure_engine(app_mod.BINARIES, CONF.postgresql.packages, 'PostgreSQL',
                             finder=app_mod.find)
    with renv.replica_set(ADDRESSES, GROUP, ('postgres',), 'trove-plate-',
                          manager.PostgreSQLEngine) as rs:
        yield rs


def test_attach_after_the_primary_recycled_its_wal(pair, caplog):
    primary, replica = pair['members']
    with renv.as_member(primary, GROUP):
        primary.engine.prepare(_request())
    _sql(primary, 'CREATE TABLE items (id INT PRIMARY KEY, name TEXT)')
    _repl(primary, 'ensure_replication_user', **REPL)
    renv.backup_into(pg_backup.PgBaseBackup, primary, replica,
                     os.path.join(pair['base'], 'backup'), GROUP)
    with renv.as_member(primary, GROUP):
        for i in range(8):  # new segments, archived and recycled by checkpoints
            _sql(primary, "INSERT INTO items VALUES (%d, 'row')" % i)
            primary.engine.admin.execute('SELECT pg_switch_wal()')
            primary.engine.admin.execute('CHECKPOINT')
    with renv.as_member(replica, GROUP):
        replica.engine.prepare(_request())
    _repl(primary, 'ensure_replication_user', replica_host=replica.address, **REPL)
    _repl(primary, 'create_slot', name='trove_late')
    _repl(replica, 'attach', primary_host=primary.address, primary_port=primary.port,
          slot='trove_late', **REPL)
    print('base backup fallback: %s' % ('base backup' in caplog.text))
    _sql(primary, "INSERT INTO items VALUES (100, 'late')")
    assert _repl(replica, 'wait_for', position=_repl(primary, 'snapshot_position'),
                 timeout=30)
    assert len(_sql(replica, 'SELECT id FROM items')) == 9
    status = _repl(replica, 'status')
    assert status['healthy'] and status['role'] == 'replica', status
