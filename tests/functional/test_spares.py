"""Spare servers: a create claims a pre-started MariaDB and the pool refills.

The pool keeps one mariadb spare sized for flavor 2.  The first instance
(flavor 2) takes the spare as it runs; the second (flavor 3, twice the RAM)
takes the replacement, whose engine is restarted with the larger config.
Both are reachable as their created users, and deleting them leaves only the
pool's own spare, which ``trove-manage spares_delete`` powers off.
PostgreSQL and Redis spares are claimed the same way.
"""
import time

import psycopg
import pymysql
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.functional.helpers import (gone, pg_redis_stack, ready_spare, server_state,
                                      session_pids)
from tests.functional.stack import Stack


@pytest.fixture
def spare_stack():
    stack = Stack(local_opts={'spare_servers': 'mariadb:1', 'spare_flavor': '2'})
    try:
        yield stack.start()
    finally:
        stack.stop()


def _create(stack, name, flavor, user):
    created = stack.cli_json(
        'database', 'instance', 'create', name, '--flavor', flavor, '--size', '2',
        '--datastore', 'mariadb', '--databases', 'shop', '--users', '%s:pw-%s' % (user, user))
    return _wait_active(stack, created['id'])


def _query(inst, user, sql):
    conn = pymysql.connect(host=inst['addresses'][0]['address'], user=user,
                           password='pw-%s' % user, database='shop', connect_timeout=10)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()
    finally:
        conn.close()


def test_create_claims_the_spare_and_the_pool_refills(spare_stack):
    stack = spare_stack
    spare = ready_spare(stack)
    first = _create(stack, 'sp-1', '2', 'alice')
    st = server_state(stack, spare)
    assert st['metadata']['trove_instance_id'] == first['id']
    assert st['name'] == 'sp-1'
    assert _query(first, 'alice', 'SELECT CURRENT_USER()')[0].startswith('alice@')
    # Flavor 2 is what the spare was sized for: no restart of its engine.
    assert _query(first, 'alice', 'SELECT @@innodb_buffer_pool_size') == (512 * 2 ** 20,)

    replacement = ready_spare(stack, exclude=(spare,))
    second = _create(stack, 'sp-2', '3', 'bob')
    assert server_state(stack, replacement)['metadata']['trove_instance_id'] == second['id']
    # Flavor 3 has 2 GB: the engine was restarted with the larger template.
    assert _query(second, 'bob', 'SELECT @@innodb_buffer_pool_size') == (1024 * 2 ** 20,)
    assert _query(second, 'bob', 'SELECT @@max_connections') == (512,)

    sids = [server_state(stack, s)['sid'] for s in (spare, replacement)]
    for inst in (first, second):
        stack.cli('database', 'instance', 'delete', inst['id'])
    for inst in (first, second):
        stack.wait_instance(inst['id'], gone, timeout=120)
    assert all(session_pids(sid) == [] for sid in sids)
    left = [s for s in stack.local_servers() if s not in (spare, replacement)]
    assert len(left) == 1 and server_state(stack, left[0])['metadata']['trove_spare']
    assert len(stack.local_volumes()) == 1

    # The operator drains the pool (bin/unstack.sh does so): nothing is left
    # once the taskmanager, which would refill it, is stopped.
    stack.stop_daemon('taskmanager')
    last_sid = server_state(stack, left[0])['sid']
    stack.manage('spares_delete')
    assert stack.local_servers() == [] and stack.local_volumes() == []
    _wait_for(lambda: session_pids(last_sid) == [])  # zombies are reaped by init


def _wait_for(cond, timeout=10):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, 'condition still false after %d s' % timeout
        time.sleep(0.1)


def test_postgresql_and_redis_spares():
    opts = {'spare_servers': 'postgresql:1,redis:1', 'spare_flavor': '2'}
    with pg_redis_stack(local_opts=opts) as stack:
        pg_spare = ready_spare(stack, manager='postgresql')
        rd_spare = ready_spare(stack, manager='redis')
        created = stack.cli_json(
            'database', 'instance', 'create', 'sp-pg', '--flavor', '2', '--size', '1',
            '--datastore', 'postgresql', '--datastore-version', stack.versions['postgresql'],
            '--databases', 'shop', '--users', 'carol:pw-carol')
        pg = _wait_active(stack, created['id'])
        assert server_state(stack, pg_spare)['metadata']['trove_instance_id'] == pg['id']
        with psycopg.connect(host=pg['addresses'][0]['address'], port=5432, user='carol',
                             password='pw-carol', dbname='shop', connect_timeout=10) as conn:
            conn.execute('CREATE TABLE t (a int)')
            conn.execute('INSERT INTO t VALUES (7)')
            assert conn.execute('SELECT a FROM t').fetchone() == (7,)

        created = stack.cli_json(
            'database', 'instance', 'create', 'sp-rd', '--flavor', '2', '--size', '1',
            '--datastore', 'redis', '--datastore-version', stack.versions['redis'])
        rd = _wait_active(stack, created['id'])
        assert server_state(stack, rd_spare)['metadata']['trove_instance_id'] == rd['id']
        password = stack.cli_json('database', 'root', 'enable', rd['id'])['password']
        client = redis.Redis(host=rd['addresses'][0]['address'], port=6379,
                             password=password, socket_timeout=10,
                             retry=Retry(NoBackoff(), 0))
        client.set('k', 'v')
        assert client.get('k') == b'v'
        client.close()


def _wait_active(stack, instance_id):
    body = stack.wait_instance(instance_id, lambda c, b: c == 200 and (
        b['instance']['status'] == 'ERROR' or
        b['instance']['operating_status'] == 'HEALTHY'))
    assert body['instance']['status'] == 'ACTIVE', body
    return body['instance']
