"""End to end: backups and restores of a real MariaDB through the real CLI.

Known rows go into an instance; a full backup, more rows, an incremental
backup; each is restored into a new instance and the rows compared exactly.
A tampered object fails its restore with a readable fault; deleting the
full backup deletes the incremental; nothing is left at the end.
"""
import os

import pymysql
import pytest

from tests.functional import helpers

FIRST = [(i, 'first-%03d' % i) for i in range(1, 41)]
SECOND = [(i, 'second-%03d' % i) for i in range(41, 101)]


@pytest.fixture(scope='module')
def stack():
    with helpers.store_stack('stall_timeout = 120\nprogress_interval = 2\n') as st:
        yield st


def _connect(stack, instance_id):
    body = stack.wait_instance(instance_id, helpers.healthy_or_error, timeout=400)
    assert body['instance']['status'] == 'ACTIVE', body
    address = body['instance']['addresses'][0]['address']
    return pymysql.connect(host=address, port=3306, user='alice', password='s3cret-Pw',
                           database='shop', connect_timeout=10, autocommit=True)


def _rows(conn):
    with conn.cursor() as cur:
        cur.execute('SELECT id, name FROM items ORDER BY id')
        return [tuple(r) for r in cur.fetchall()]


def _insert(conn, rows):
    with conn.cursor() as cur:
        cur.executemany('INSERT INTO items VALUES (%s, %s)', rows)


def _wait_backup(stack, backup_id, timeout=300):
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        shown = stack.cli_json('database', 'backup', 'show', backup_id)
        if shown['status'] in ('COMPLETED', 'FAILED'):
            return shown
        time.sleep(1)
    raise AssertionError('backup %s still %s' % (backup_id, shown['status']))


def _create(stack, name, backup=None):
    args = ['database', 'instance', 'create', name, '--flavor', '2', '--size', '1',
            '--datastore', 'mariadb']
    if backup:
        args += ['--backup', backup]
    else:
        args += ['--databases', 'shop', '--users', 'alice:s3cret-Pw']
    return stack.cli_json(*args)['id']


def _delete_instances(stack, ids):
    for instance_id in ids:
        stack.cli('database', 'instance', 'delete', instance_id, check=False)
    for instance_id in ids:
        stack.wait_instance(instance_id, lambda c, b: c == 404, timeout=120)


def _store_files(stack):
    found = []
    for root, _dirs, files in os.walk(stack.store):
        found += [os.path.join(root, f) for f in files]
    return sorted(found)


def test_full_and_incremental_backup_restore(stack):
    source = _create(stack, 'bk-source')
    conn = _connect(stack, source)
    with conn.cursor() as cur:
        cur.execute('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))')
    _insert(conn, FIRST)

    full = stack.cli_json('database', 'backup', 'create', 'full-1', '--instance', source)
    assert full['status'] == 'NEW' and full['instance_id'] == source
    full = _wait_backup(stack, full['id'])
    assert full['status'] == 'COMPLETED', full
    assert full['size'] > 0 and full['parent_id'] is None

    _insert(conn, SECOND)
    conn.close()
    inc = stack.cli_json('database', 'backup', 'create', 'inc-1', '--instance', source,
                         '--incremental')
    inc = _wait_backup(stack, inc['id'])
    assert inc['status'] == 'COMPLETED' and inc['parent_id'] == full['id'], inc
    listed = stack.cli_json('database', 'backup', 'list')
    assert {b['ID'] for b in listed} == {full['id'], inc['id']}
    code, body = stack.request('GET', '/instances/%s/backups' % source)
    assert code == 200 and len(body['backups']) == 2

    from_full = _create(stack, 'bk-restore-full', backup=full['id'])
    from_inc = _create(stack, 'bk-restore-inc', backup=inc['id'])
    restored = []
    try:
        for instance_id, expected in ((from_full, FIRST), (from_inc, FIRST + SECOND)):
            conn = _connect(stack, instance_id)
            restored.append(_rows(conn))
            conn.close()
            assert restored[-1] == expected
    finally:
        _delete_instances(stack, [from_full, from_inc])

    # A flipped byte in the full backup: restoring the chain fails, readably.
    [full_obj] = [p for p in _store_files(stack)
                  if os.path.basename(p).startswith(full['id']) and 'meta' not in p]
    with open(full_obj, 'r+b') as f:
        f.seek(os.path.getsize(full_obj) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    tampered = _create(stack, 'bk-restore-bad', backup=inc['id'])
    try:
        body = stack.wait_instance(tampered, helpers.healthy_or_error, timeout=300)
        inst = body['instance']
        assert inst['status'] == 'ERROR', inst
        assert 'failed verification' in inst['fault']['message'], inst['fault']
        assert 'checksum mismatch' in inst['fault']['message']
    finally:
        _delete_instances(stack, [tampered])

    # Deleting the full backup deletes the incremental built on it.
    stack.cli('database', 'backup', 'delete', full['id'])
    import time
    deadline = time.time() + 60
    while time.time() < deadline and stack.cli_json('database', 'backup', 'list'):
        time.sleep(1)
    assert stack.cli_json('database', 'backup', 'list') == []
    assert _store_files(stack) == []
    _delete_instances(stack, [source])
    assert stack.local_servers() == [] and stack.local_volumes() == []
