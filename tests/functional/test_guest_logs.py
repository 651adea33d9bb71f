"""End to end: guest logs of a real MariaDB through the real CLI.

``database log list|show|set`` against a private stack: enabling ``general``
turns on the server's general log, a query lands in it, publishing puts the
new bytes into the local backup store (container ``database_logs``),
discarding removes them and disabling turns the log off again.  For
MariaDB and PostgreSQL the published log holds the user's statements but
none of the agent's health checks.
"""
import os
import time

import pymysql
import pytest

from tests.functional import helpers
from tests.functional.helpers import gone

CONTAINER = 'database_logs'


@pytest.fixture(scope='module')
def stack():
    with helpers.store_stack() as st:
        yield st


def _published_files(stack, instance_id):
    """Object files (not their metadata) of the instance in the log container."""
    top = os.path.join(stack.store, CONTAINER, instance_id)
    found = []
    for dirpath, _dirs, names in os.walk(top):
        found += [os.path.join(dirpath, n) for n in names if not n.endswith('.meta.json')]
    return sorted(found)


def _general_log(conn):
    with conn.cursor() as cur:
        cur.execute('SELECT @@general_log')
        return cur.fetchone()[0]


def _log_set(stack, instance_id, *args):
    return stack.cli_json('database', 'log', 'set', instance_id, *args)


def test_log_list_show_set(stack):
    created = stack.cli_json(
        'database', 'instance', 'create', 'ft-logs', '--flavor', '2', '--size', '1',
        '--datastore', 'mariadb', '--databases', 'shop', '--users', 'alice:s3cret-Pw')
    instance_id = created['id']
    body = stack.wait_instance(instance_id, helpers.healthy_or_error, timeout=400)
    assert body['instance']['status'] == 'ACTIVE', body
    address = body['instance']['addresses'][0]['address']

    listed = {log['Name']: log for log in stack.cli_json('database', 'log', 'list',
                                                         instance_id)}
    assert set(listed) == {'general', 'slow_query', 'error', 'guest'}
    assert listed['general']['Type'] == 'USER' and listed['general']['Status'] == 'Disabled'
    assert listed['error']['Type'] == 'SYS' and listed['error']['Status'] == 'Ready'
    assert listed['guest']['Status'] in ('Ready', 'Enabled'), listed['guest']
    shown = stack.cli_json('database', 'log', 'show', instance_id, 'general')
    assert shown['container'] == CONTAINER
    assert shown['prefix'] == '%s/mariadb-general/' % instance_id

    root = stack.cli_json('database', 'root', 'enable', instance_id)
    conn = pymysql.connect(host=address, port=3306, user='root', password=root['password'],
                           connect_timeout=10, autocommit=True)
    try:
        # Ready at once: the server writes a header when it opens the file.
        enabled = _log_set(stack, instance_id, 'general', '--enable')
        assert enabled['status'] in ('Enabled', 'Ready'), enabled
        assert _general_log(conn) == 1
        with conn.cursor() as cur:
            cur.execute("SELECT 'guest-log-marker-42'")
        # Two heartbeats (report_interval 2 s) ping the engine meanwhile.
        time.sleep(4.5)

        published = _wait_published(stack, instance_id)
        assert published['published'] > 0 and published['pending'] >= 0
        files = _published_files(stack, instance_id)
        parts = [f for f in files if '/mariadb-general/log-' in f]
        assert parts and any(f.endswith('mariadb-general_metafile') for f in files)
        text = b''.join(open(p, 'rb').read() for p in parts)
        assert b'guest-log-marker-42' in text
        # The agent's health checks stay out of the user's log (sql_log_off).
        assert b'\tSELECT 1\n' not in text

        discarded = _log_set(stack, instance_id, 'general', '--discard')
        assert discarded['published'] == 0 and discarded['pending'] > 0
        assert _published_files(stack, instance_id) == []

        # The setting survives an engine restart (conf.d/30-guest-logs.cnf).
        conn.close()
        stack.cli('database', 'instance', 'restart', instance_id)
        stack.wait_instance(instance_id, lambda c, b: b['instance']['status'] == 'ACTIVE'
                            and b['instance']['operating_status'] == 'HEALTHY', timeout=120)
        conn = pymysql.connect(host=address, port=3306, user='root',
                               password=root['password'], connect_timeout=10, autocommit=True)
        assert _general_log(conn) == 1

        assert _log_set(stack, instance_id, 'general', '--disable')['status'] == 'Disabled'
        assert _general_log(conn) == 0
    finally:
        conn.close()

    # A SYS log may be published by the admin (noauth callers are admins).
    assert _log_set(stack, instance_id, 'error', '--publish')['published'] > 0
    res = stack.cli('database', 'log', 'set', instance_id, 'error', '--enable', check=False)
    assert res.returncode != 0 and 'system log' in res.stderr
    res = stack.cli('database', 'log', 'show', instance_id, 'nope', check=False)
    assert res.returncode != 0 and 'nope' in res.stderr

    stack.cli('database', 'instance', 'delete', instance_id)
    stack.wait_instance(instance_id, gone, timeout=120)


def _wait_published(stack, instance_id, timeout=10):
    """Publish until the marker query is in the store: the server writes its
    general log asynchronously, so the first publish may come too early."""
    deadline = time.monotonic() + timeout
    while True:
        log = _log_set(stack, instance_id, 'general', '--publish')
        parts = [f for f in _published_files(stack, instance_id) if '/log-' in f]
        if any(b'guest-log-marker-42' in open(p, 'rb').read() for p in parts):
            return log
        if time.monotonic() > deadline:
            raise AssertionError('marker never published: %r' % log)
        time.sleep(0.5)


def test_postgresql_general_log_has_the_users_statements_only():
    import psycopg
    with helpers.pg_redis_stack(configure=helpers.with_store) as stack:
        created = stack.cli_json(
            'database', 'instance', 'create', 'ft-pg-logs', '--flavor', '2', '--size', '1',
            '--datastore', 'postgresql', '--datastore-version', stack.versions['postgresql'],
            '--databases', 'shop', '--users', 'carol:s3cret-Pw')
        instance_id = created['id']
        body = stack.wait_instance(instance_id, helpers.healthy_or_error, timeout=400)
        assert body['instance']['status'] == 'ACTIVE', body
        address = body['instance']['addresses'][0]['address']
        assert _log_set(stack, instance_id, 'general', '--enable')['status'] in (
            'Enabled', 'Ready')
        with psycopg.connect(host=address, port=5432, user='carol', password='s3cret-Pw',
                             dbname='shop', connect_timeout=10) as conn:
            conn.execute("SELECT 'pg-log-marker-7'")
        time.sleep(4.5)  # heartbeats ping the engine meanwhile
        deadline = time.monotonic() + 10
        while True:
            _log_set(stack, instance_id, 'general', '--publish')
            parts = [f for f in _published_files(stack, instance_id)
                     if '/postgresql-general/log-' in f]
            text = b''.join(open(p, 'rb').read() for p in parts)
            if b'pg-log-marker-7' in text or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert b'pg-log-marker-7' in text
        # The agent's health checks and role changes stay out (log_statement=none).
        assert b'statement: SELECT 1' not in text
        stack.cli('database', 'instance', 'delete', instance_id)
        stack.wait_instance(instance_id, gone, timeout=120)
