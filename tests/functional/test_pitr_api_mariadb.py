"""End to end through the real API: point-in-time recovery of MariaDB, from a
deleted instance's backup.

An instance created with ``pitr: {enabled: true}`` streams its binary logs
into the store once ACTIVE; rows are written in three batches, a full
backup taken after the first and an incremental one after the second, then
a pause of three seconds before the third (a target in it is more than a
second after the second batch and before the third, whatever sample the
replay stops at: trove/guestagent/archive/mariadb.py).  Once
``latest_restorable_time`` has passed the last write the source is deleted:
its archive stays, since its backups are kept, and a new instance restored
with ``restorePoint: {backupRef, restoreTime}`` to a time in the pause
holds exactly the rows committed at or before it, restored from the
incremental backup (the chain applied whole, the binary logs replayed from
its position on).  A time outside the window is a 400 that creates nothing.
Deleting the backups then deletes the deleted instance's archive.
"""
import datetime
import time

import pymysql
import pytest

from tests.functional import helpers
from tests.functional import pitr_api_env as penv

PASSWORD = 's3cret-Pw'


@pytest.fixture(scope='module')
def stack():
    with helpers.store_stack() as st:
        yield st


def _create(stack, name, **extra):
    body = {'instance': dict(name=name, flavorRef='2', volume={'size': 1},
                             datastore={'type': 'mariadb'}, **extra)}
    return stack.request('POST', '/instances', body)


def _connect(address):
    return pymysql.connect(host=address, port=3306, user='alice', password=PASSWORD,
                           database='shop', connect_timeout=10, autocommit=True)


def _write(conn, ids):
    """Commit each row on its own; the UTC time once the last one committed."""
    with conn.cursor() as cur:
        for i in ids:
            cur.execute('INSERT INTO items VALUES (%s)', (i,))
    return datetime.datetime.now(datetime.UTC)


def _ids(address):
    with _connect(address) as conn, conn.cursor() as cur:
        cur.execute('SELECT id FROM items ORDER BY id')
        return [r[0] for r in cur.fetchall()]


def test_restore_a_deleted_instance_to_a_time(stack):
    code, body = _create(stack, 'mpitr-source', pitr={'enabled': True},
                         databases=[{'name': 'shop'}],
                         users=[{'name': 'alice', 'password': PASSWORD,
                                 'databases': [{'name': 'shop'}]}])
    assert code == 200, body
    source = body['instance']['id']
    made = [source]
    try:
        address = helpers.ready(stack, source)['addresses'][0]['address']
        helpers.eventually(lambda: penv.pitr(stack, source)['enabled'], True)
        with _connect(address) as conn:
            with conn.cursor() as cur:
                cur.execute('CREATE TABLE items (id INT PRIMARY KEY)')
            _write(conn, range(1, 11))
            full = penv.backup(stack, source)
            window = penv.wait_latest(stack, source, datetime.datetime.now(datetime.UTC))
            assert window['earliest_restorable_time'] is not None, window
            _write(conn, range(11, 21))
            inc = penv.backup(stack, source, parent=full['id'])
            pause = datetime.datetime.now(datetime.UTC)
            time.sleep(3)
            last = _write(conn, range(21, 31))
        window = penv.wait_latest(stack, source, last)
        # After the incremental; T's whole second ends before the third batch.
        target = pause + datetime.timedelta(seconds=1.2)

        # Deleted, the source keeps its archive: its backup is kept.
        penv.delete(stack, [source])
        made.remove(source)
        assert penv.archive_keys(stack, source), 'the archive went with the instance'
        early = penv.parse(window['earliest_restorable_time']) - datetime.timedelta(minutes=5)
        before = penv.count(stack)
        code, body = _create(stack, 'mpitr-early', restorePoint={
            'backupRef': full['id'], 'restoreTime': penv.iso(early)})
        assert code == 400 and 'outside' in body['badRequest']['message'], (code, body)
        assert penv.count(stack) == before

        code, body = _create(stack, 'mpitr-restored', restorePoint={
            'backupRef': full['id'], 'restoreTime': penv.iso(target)})
        assert code == 200, body
        restored = body['instance']['id']
        made.append(restored)
        address = helpers.ready(stack, restored)['addresses'][0]['address']
        assert _ids(address) == list(range(1, 21))
        assert penv.logged(stack, 'from backup %s and archive' % inc['id'])

        # The last backup of the deleted instance goes (its incremental with
        # it), and its archive with them.
        penv.delete_backup(stack, full['id'])
        helpers.eventually(lambda: penv.archive_keys(stack, source), set())
    finally:
        penv.delete(stack, made)
