"""End to end through the real API: point-in-time recovery of PostgreSQL.

An instance created with ``pitr: {enabled: true}`` archives its WAL once
ACTIVE; rows are written in three batches with a pause between them, a full
backup is taken after each of the first two.  Deleting the first backup
prunes the archive's segments before the second one's start from the store
(the others stay) and moves the earliest restorable time to the second
backup's end.  Once ``latest_restorable_time`` (from the heartbeats) has
passed the last write, a new instance restored (from the second backup and
the pruned archive) to a time between the second and third batch holds
exactly the first two.  A time outside the window (also one the window held
before the prune), one without a zone and a Redis instance are 400s that
create nothing; PUT pitr off closes the window and deletes the archive; PUT
pitr on a Redis instance is a 400.
"""
import datetime
import time

import psycopg
import pytest

from tests.functional import helpers
from tests.functional import pitr_api_env as penv

PASSWORD = 's3cret-Pw'


@pytest.fixture(scope='module')
def stack():
    with helpers.pg_redis_stack(helpers.with_store) as st:
        yield st


def _create(stack, name, datastore, **extra):
    if datastore == 'postgresql':
        extra.update(databases=[{'name': 'shop'}], users=[
            {'name': 'alice', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}])
    body = {'instance': dict(
        name=name, flavorRef='2', volume={'size': 1},
        datastore={'type': datastore, 'version': stack.versions[datastore]}, **extra)}
    return stack.request('POST', '/instances', body)




def _pg(address):
    return psycopg.connect(host=address, port=5432, user='alice', password=PASSWORD,
                           dbname='shop', connect_timeout=10, autocommit=True)










def _write(conn, ids):
    """Commit each row on its own; the UTC time once the last one committed."""
    for i in ids:
        conn.execute('INSERT INTO items VALUES (%s)', (i,))
    return datetime.datetime.now(datetime.UTC)










def _start_wal(stack, backup):
    """The first WAL segment a restore from ``backup`` reads (its store metadata)."""
    return penv.backup_meta(stack, backup)['start_wal']


def _refused(stack, name, restore_point):
    before = penv.count(stack)
    code, body = _create(stack, name, 'postgresql', restorePoint=restore_point)
    assert code == 400 and body['badRequest']['code'] == 400, (code, body)
    assert penv.count(stack) == before
    return body['badRequest']['message']




def test_restore_to_a_time_through_the_api(stack):
    code, body = _create(stack, 'pitr-source', 'postgresql', pitr={'enabled': True})
    assert code == 200, body
    source = body['instance']['id']
    made = [source]
    try:
        address = helpers.ready(stack, source)['addresses'][0]['address']
        helpers.eventually(lambda: penv.pitr(stack, source)['enabled'], True)
        with _pg(address) as conn:
            conn.execute('CREATE TABLE items (id INT PRIMARY KEY)')
            _write(conn, range(1, 11))
            first = penv.backup(stack, source)
            # The window opens once the archive has shipped past the backup's end.
            window = penv.wait_latest(stack, source, datetime.datetime.now(datetime.UTC))
            assert window['earliest_restorable_time'] is not None, window
            _write(conn, range(11, 21))
            second = penv.backup(stack, source)
            second_done = datetime.datetime.now(datetime.UTC)
            time.sleep(1.5)
            third_start = datetime.datetime.now(datetime.UTC)
            last = _write(conn, range(21, 31))
        penv.wait_latest(stack, source, last)
        target = second_done + (third_start - second_done) / 2

        # Retention of the archive: the first backup goes, and with it the
        # segments only it needed; the window now starts at the second's end.
        bound = _start_wal(stack, second)
        assert _start_wal(stack, first) < bound
        assert any(k < bound for k in penv.archive_keys(stack, source) if not k.endswith('history'))
        kept = {k for k in penv.archive_keys(stack, source) if k >= bound}
        penv.delete_backup(stack, first['id'])
        helpers.eventually(lambda: {k for k in penv.archive_keys(stack, source) if k < bound},
                           set())
        assert kept <= penv.archive_keys(stack, source)
        moved = penv.pitr(stack, source)['earliest_restorable_time']
        assert penv.parse(moved) > penv.parse(window['earliest_restorable_time']), (moved, window)
        assert 'outside' in _refused(stack, 'pitr-pruned', {
            'instanceRef': source, 'restoreTime': window['earliest_restorable_time']})

        # Outside the window, without a zone, not a time: 400, nothing created.
        early = penv.parse(window['earliest_restorable_time']) - datetime.timedelta(minutes=5)
        assert 'outside' in _refused(stack, 'pitr-early', {
            'instanceRef': source, 'restoreTime': penv.iso(early)})
        late = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
        assert 'outside' in _refused(stack, 'pitr-late', {
            'instanceRef': source, 'restoreTime': penv.iso(late)})
        assert 'zone' in _refused(stack, 'pitr-naive', {
            'instanceRef': source, 'restoreTime': target.replace(tzinfo=None).isoformat()})
        assert 'ISO 8601' in _refused(stack, 'pitr-garbage', {
            'instanceRef': source, 'restoreTime': 'yesterday'})

        code, body = _create(stack, 'pitr-restored', 'postgresql',
                             restorePoint={'instanceRef': source, 'restoreTime': penv.iso(target)})
        assert code == 200, body
        restored = body['instance']['id']
        made.append(restored)
        address = helpers.ready(stack, restored)['addresses'][0]['address']
        with _pg(address) as conn:
            ids = [r[0] for r in conn.execute('SELECT id FROM items ORDER BY id').fetchall()]
        assert ids == list(range(1, 21))

        # Off through PUT: the guest stops and the window is gone.
        code, body = stack.request('PUT', '/instances/%s' % source,
                                   {'instance': {'pitr': {'enabled': False}}})
        assert code == 202, body
        helpers.eventually(lambda: penv.pitr(stack, source), {
            'enabled': False, 'earliest_restorable_time': None,
            'latest_restorable_time': None})
        assert 'no recoverable window' in _refused(stack, 'pitr-off', {
            'instanceRef': source, 'restoreTime': penv.iso(target)})
        # No window needs the archive any more: it is deleted.
        helpers.eventually(lambda: penv.archive_keys(stack, source), set())
    finally:
        penv.delete(stack, made)


def test_redis_refuses_pitr(stack):
    before = penv.count(stack)
    code, body = _create(stack, 'pitr-redis', 'redis', pitr={'enabled': True})
    assert code == 400 and 'not supported for the redis' in body['badRequest']['message'], body
    assert penv.count(stack) == before
    code, body = _create(stack, 'plain-redis', 'redis')
    assert code == 200, body
    redis_id = body['instance']['id']
    try:
        helpers.ready(stack, redis_id)
        code, body = stack.request('PUT', '/instances/%s' % redis_id,
                                   {'instance': {'pitr': {'enabled': True}}})
        assert code == 400 and 'not supported for the redis' in body['badRequest']['message']
        assert penv.pitr(stack, redis_id)['enabled'] is False
    finally:
        penv.delete(stack, [redis_id])
