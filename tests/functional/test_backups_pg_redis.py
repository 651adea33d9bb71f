"""End to end: PostgreSQL and Redis backups and restores through the real CLI.

PostgreSQL: known rows, a full backup (pg_basebackup), more rows, an
incremental (archived WAL), a few rows after it; each backup is restored
into a new instance and its rows compared exactly (the later rows must not
be there).  Redis: strings, a hash and a list, an RDB backup, a restore
into a new instance with identical keys and values; an incremental is
refused with 400.  A backup cannot be restored into another datastore.
Everything is deleted at the end.
"""
import time

import psycopg
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.functional import helpers

FIRST = [(i, 'first-%03d' % i) for i in range(1, 41)]
SECOND = [(i, 'second-%03d' % i) for i in range(41, 101)]
LATER = [(i, 'later-%03d' % i) for i in range(101, 111)]
PASSWORD = 's3cret-Pw'


def _with_store(st):
    helpers.with_store(st, 'stall_timeout = 120\nprogress_interval = 2\n')


@pytest.fixture(scope='module')
def stack():
    with helpers.pg_redis_stack(_with_store) as st:
        yield st


def _address(stack, instance_id):
    body = stack.wait_instance(instance_id, lambda c, b: c == 200 and (
        b['instance']['status'] == 'ERROR' or
        b['instance']['operating_status'] == 'HEALTHY'), timeout=400)
    inst = body['instance']
    assert inst['status'] == 'ACTIVE', inst
    return inst['addresses'][0]['address']


def _create(stack, name, datastore, *extra):
    return stack.cli_json('database', 'instance', 'create', name, '--flavor', '2',
                          '--size', '1', '--datastore', datastore,
                          '--datastore-version', stack.versions[datastore], *extra)['id']


def _backup(stack, name, instance_id, *extra):
    created = stack.cli_json('database', 'backup', 'create', name, '--instance',
                             instance_id, *extra)
    deadline = time.time() + 300
    while time.time() < deadline:
        shown = stack.cli_json('database', 'backup', 'show', created['id'])
        if shown['status'] in ('COMPLETED', 'FAILED'):
            assert shown['status'] == 'COMPLETED', shown
            return shown
        time.sleep(1)
    raise AssertionError('backup %s did not finish' % created['id'])


def _pg(address):
    return psycopg.connect(host=address, port=5432, user='alice', password=PASSWORD,
                           dbname='shop', connect_timeout=10, autocommit=True)


def _rows(address):
    with _pg(address) as conn:
        return conn.execute('SELECT id, name FROM items ORDER BY id').fetchall()


def _insert(conn, rows):
    with conn.cursor() as cur:
        cur.executemany('INSERT INTO items VALUES (%s, %s)', rows)


def _redis(address, password):
    return redis.Redis(host=address, port=6379, password=password, socket_timeout=10,
                       retry=Retry(NoBackoff(), 0))


def _delete(stack, ids):
    for instance_id in ids:
        stack.cli('database', 'instance', 'delete', instance_id, check=False)
    for instance_id in ids:
        stack.wait_instance(instance_id, lambda c, b: c == 404, timeout=120)


def _delete_backups(stack):
    for backup in stack.cli_json('database', 'backup', 'list'):
        if backup['Parent ID'] is None:
            stack.cli('database', 'backup', 'delete', backup['ID'])
    deadline = time.time() + 60
    while time.time() < deadline and stack.cli_json('database', 'backup', 'list'):
        time.sleep(1)
    assert stack.cli_json('database', 'backup', 'list') == []


def test_postgresql_full_and_incremental(stack):
    source = _create(stack, 'pgb-source', 'postgresql', '--databases', 'shop',
                     '--users', 'alice:%s' % PASSWORD)
    made = [source]
    try:
        with _pg(_address(stack, source)) as conn:
            conn.execute('CREATE TABLE items (id INT PRIMARY KEY, name TEXT)')
            _insert(conn, FIRST)
            full = _backup(stack, 'pg-full', source)
            assert full['parent_id'] is None and full['size'] > 0
            _insert(conn, SECOND)
            inc = _backup(stack, 'pg-inc', source, '--incremental')
            assert inc['parent_id'] == full['id']
            _insert(conn, LATER)

        # Another datastore's backup cannot be restored: 400, nothing created.
        res = stack.cli('database', 'instance', 'create', 'wrong', '--flavor', '2',
                        '--size', '1', '--datastore', 'redis', '--datastore-version',
                        stack.versions['redis'], '--backup', full['id'], check=False)
        assert res.returncode != 0 and 'does not match' in res.stderr, res.stderr
        assert len(stack.local_servers()) == 1

        from_full = _create(stack, 'pgb-full', 'postgresql', '--backup', full['id'])
        from_inc = _create(stack, 'pgb-inc', 'postgresql', '--backup', inc['id'])
        made += [from_full, from_inc]
        assert _rows(_address(stack, from_full)) == FIRST
        assert _rows(_address(stack, from_inc)) == FIRST + SECOND
        # The restored copy is a working primary with its own WAL archive.
        with _pg(_address(stack, from_inc)) as conn:
            _insert(conn, LATER)
        assert _rows(_address(stack, from_inc)) == FIRST + SECOND + LATER
        code, body = stack.request('GET', '/instances/%s/root' % from_inc)
        assert (code, body) == (200, {'rootEnabled': False})
    finally:
        _delete(stack, made)
    _delete_backups(stack)


def test_redis_backup_restore(stack):
    source = _create(stack, 'rdb-source', 'redis')
    made = [source]
    try:
        address = _address(stack, source)
        password = stack.cli_json('database', 'root', 'enable', source)['password']
        cli = _redis(address, password)
        cli.set('greeting', 'hello')
        cli.set('counter', 42)
        cli.set('binary', b'\x00\xffbytes')
        cli.hset('fruit:1', mapping={'name': 'apple', 'colour': 'red'})
        cli.rpush('queue', 'a', 'b', 'c', 'b')
        expected = {
            'greeting': cli.get('greeting'), 'counter': cli.get('counter'),
            'binary': cli.get('binary'), 'fruit:1': cli.hgetall('fruit:1'),
            'queue': cli.lrange('queue', 0, -1)}
        backup = _backup(stack, 'redis-full', source)
        cli.set('after', 'not in the backup')
        cli.close()

        res = stack.cli('database', 'backup', 'create', 'redis-inc', '--instance', source,
                        '--incremental', check=False)
        assert res.returncode != 0
        assert 'incremental backups are not supported' in res.stderr, res.stderr

        restored = _create(stack, 'rdb-restored', 'redis', '--backup', backup['id'])
        made.append(restored)
        address = _address(stack, restored)
        code, body = stack.request('GET', '/instances/%s/root' % restored)
        assert (code, body) == (200, {'rootEnabled': False})
        password = stack.cli_json('database', 'root', 'enable', restored)['password']
        cli = _redis(address, password)
        got = {'greeting': cli.get('greeting'), 'counter': cli.get('counter'),
               'binary': cli.get('binary'), 'fruit:1': cli.hgetall('fruit:1'),
               'queue': cli.lrange('queue', 0, -1)}
        assert got == expected
        assert sorted(cli.keys()) == sorted(k.encode() for k in expected)
        cli.close()
    finally:
        _delete(stack, made)
    _delete_backups(stack)
    assert stack.local_servers() == [] and stack.local_volumes() == []
