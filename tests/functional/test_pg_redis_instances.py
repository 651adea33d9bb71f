"""End to end: PostgreSQL and Redis instances through all daemons and the real CLI.

Create a PostgreSQL instance with a database and a user, wait for HEALTHY,
log in over TCP with psycopg as that user, write and read; create a Redis
instance, enable root through the API, SET/GET with that password; delete
both and check that no server, volume or engine process is left.
"""

import psycopg
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.functional import helpers


@pytest.fixture(scope='module')
def stack():
    with helpers.pg_redis_stack() as st:
        yield st


def _sid(stack, server_id):
    return helpers.server_state(stack, server_id)['sid']


def _healthy(stack, instance_id):
    body = stack.wait_instance(instance_id, lambda c, b: c == 200 and (
        b['instance']['status'] == 'ERROR' or
        b['instance']['operating_status'] == 'HEALTHY'))
    inst = body['instance']
    assert inst['status'] == 'ACTIVE', inst
    return inst['addresses'][0]['address']


def _create(stack, name, datastore, *extra):
    created = stack.cli_json('database', 'instance', 'create', name, '--flavor', '2',
                             '--size', '1', '--datastore', datastore,
                             '--datastore-version', stack.versions[datastore], *extra)
    assert created['status'] == 'BUILD'
    return created['id']


def test_postgresql_and_redis_instances(stack):
    pg_id = _create(stack, 'ft-pg', 'postgresql', '--databases', 'shop',
                    '--users', 'alice:s3cret-Pw')
    rd_id = _create(stack, 'ft-redis', 'redis')

    pg_address = _healthy(stack, pg_id)
    with psycopg.connect(host=pg_address, port=5432, user='alice', password='s3cret-Pw',
                         dbname='shop', connect_timeout=10, autocommit=True) as conn:
        conn.execute('CREATE TABLE items (id INT PRIMARY KEY, name TEXT)')
        conn.execute("INSERT INTO items VALUES (1, 'apple')")
        assert conn.execute('SELECT name FROM items WHERE id = 1').fetchone() == ('apple',)
    users = stack.cli_json('database', 'user', 'list', pg_id)
    assert [u['Name'] for u in users] == ['alice']

    rd_address = _healthy(stack, rd_id)
    root = stack.cli_json('database', 'root', 'enable', rd_id)
    assert root['name'] == 'root' and root['password']
    cli = redis.Redis(host=rd_address, port=6379, password=root['password'],
                      socket_timeout=10, retry=Retry(NoBackoff(), 0))
    cli.set('fruit', 'apple')
    assert cli.get('fruit') == b'apple'
    cli.close()
    code, body = stack.request('GET', '/instances/%s/root' % rd_id)
    assert (code, body) == (200, {'rootEnabled': True})

    sids = [_sid(stack, s) for s in stack.local_servers()]
    assert len(sids) == 2 and all(len(helpers.session_pids(sid)) >= 2 for sid in sids)
    for instance_id in (pg_id, rd_id):
        stack.cli('database', 'instance', 'delete', instance_id)
    for instance_id in (pg_id, rd_id):
        stack.wait_instance(instance_id, lambda c, b: c == 404, timeout=120)
    assert stack.local_servers() == [] and stack.local_volumes() == []
    assert [pid for sid in sids for pid in helpers.session_pids(sid)] == []
