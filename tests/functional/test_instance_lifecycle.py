"""End to end: the real CLI creates a MariaDB instance through all four daemons.

Create with `openstack database instance create`, wait for ACTIVE/HEALTHY,
log in with PyMySQL as the created user, write and read a row, delete, and
check that no process, directory, record or queue is left.
"""
import os
import time

import pymysql

from tests.functional.helpers import gone, server_state, session_pids


def test_create_connect_delete(stack):
    created = stack.cli_json(
        'database', 'instance', 'create', 'ft-inst', '--flavor', '2', '--size', '1',
        '--datastore', 'mariadb', '--databases', 'shop', '--users', 'alice:s3cret-Pw')
    instance_id = created['id']
    assert created['name'] == 'ft-inst'
    assert created['status'] == 'BUILD'

    body = stack.wait_instance(
        instance_id, lambda c, b: c == 200 and (
            b['instance']['status'] == 'ERROR' or
            b['instance']['operating_status'] == 'HEALTHY'))
    inst = body['instance']
    assert inst['status'] == 'ACTIVE', inst
    shown = stack.cli_json('database', 'instance', 'show', instance_id)
    assert shown['operating_status'] == 'HEALTHY'
    address = inst['addresses'][0]['address']
    assert address.startswith(stack.address_prefix + '.')

    conn = pymysql.connect(host=address, port=3306, user='alice', password='s3cret-Pw',
                           database='shop', connect_timeout=10)
    with conn.cursor() as cur:
        cur.execute('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))')
        cur.execute("INSERT INTO items VALUES (1, 'apple')")
        conn.commit()
        cur.execute('SELECT name FROM items WHERE id = 1')
        assert cur.fetchone() == ('apple',)
    conn.close()

    # Access: stored, shown and cast to the taskmanager, which applies it
    # (the local driver has nothing to filter on loopback; nova: a security group).
    stack.cli('database', 'instance', 'update', instance_id, '--is-private',
              '--allowed-cidr', '10.1.0.0/16', '--allowed-cidr', '192.0.2.0/24')
    code, body = stack.request('GET', '/instances/%s' % instance_id)
    assert body['instance']['access'] == {'is_public': False,
                                          'allowed_cidrs': ['10.1.0.0/16', '192.0.2.0/24']}
    wait_for_text(os.path.join(stack.dir, 'log'), 'port 3306 open to 10.1.0.0/16, 192.0.2.0/24')
    code, body = stack.request('PUT', '/instances/%s' % instance_id, {'instance': {
        'access': {'allowed_cidrs': ['10.1.0.0/33']}}})
    assert code == 400 and 'Invalid CIDR' in body['badRequest']['message']

    [server_id] = stack.local_servers()
    sid = server_state(stack, server_id)['sid']
    assert len(session_pids(sid)) >= 2  # the agent and mariadbd
    assert len(stack.local_volumes()) == 1

    stack.cli('database', 'instance', 'delete', instance_id)
    stack.wait_instance(instance_id, gone, timeout=120)
    assert stack.local_servers() == []
    assert stack.local_volumes() == []
    assert session_pids(sid) == []
    listed = stack.cli_json('database', 'instance', 'list')
    assert [i for i in listed if i['ID'] == instance_id] == []


def wait_for_text(log_dir, text, timeout=20):
    """Wait until a daemon log in ``log_dir`` has a line with ``text``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name in os.listdir(log_dir):
            with open(os.path.join(log_dir, name), errors='replace') as f:
                if text in f.read():
                    return
        time.sleep(0.2)
    raise AssertionError('%r in no log of %s' % (text, log_dir))
