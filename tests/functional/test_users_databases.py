"""Databases, users and root of a real MariaDB instance through the real CLI.

One instance is built with ``openstack database instance create``; each
command group (``database db``, ``database user``, ``database root``) is
driven through the CLI and its effect checked inside the engine with PyMySQL:
logins, grants (error 1044 after a revoke), password changes (1045 with the
old one) and remote root.  Raw REST calls cover the error answers.
"""
import json
import os
import time
import urllib.error
import urllib.request

import pymysql
import pytest

USER_PW = 'B0b-pass'
NEW_PW = 'B0b-new-pass'


@pytest.fixture(scope='module')
def instance(stack):
    created = stack.cli_json(
        'database', 'instance', 'create', 'ft-users', '--flavor', '2', '--size', '1',
        '--datastore', 'mariadb', '--databases', 'shop', '--users', 'alice:Al1ce-pw')
    body = stack.wait_instance(
        created['id'], lambda c, b: c == 200 and (
            b['instance']['status'] == 'ERROR' or
            b['instance']['operating_status'] == 'HEALTHY'))
    inst = body['instance']
    assert inst['status'] == 'ACTIVE', inst
    yield {'id': inst['id'], 'address': inst['addresses'][0]['address']}
    stack.cli('database', 'instance', 'delete', inst['id'])
    stack.wait_instance(inst['id'], lambda c, b: c == 404, timeout=120)


def _connect(instance, user, password, database=None):
    return pymysql.connect(host=instance['address'], port=3306, user=user,
                           password=password, database=database, connect_timeout=10)


def _login_error(instance, user, password, database=None):
    """The MySQL error code of a failed login, or None when it works."""
    try:
        conn = _connect(instance, user, password, database)
    except pymysql.err.OperationalError as exc:
        return exc.args[0]
    conn.close()
    return None


def _fails(stack, *args):
    res = stack.cli(*args, check=False)
    assert res.returncode != 0, res.stdout
    return res.stderr


def test_databases(stack, instance):
    iid = instance['id']
    stack.cli('database', 'db', 'create', iid, 'orders', '--character_set', 'utf8mb4',
              '--collate', 'utf8mb4_bin')
    names = [d['Name'] for d in stack.cli_json('database', 'db', 'list', iid)]
    assert names == ['orders', 'shop']
    conn = _connect(instance, 'alice', 'Al1ce-pw')
    with conn.cursor() as cur:
        cur.execute('SELECT default_collation_name FROM information_schema.schemata '
                    "WHERE schema_name = 'orders'")
        # alice has no grant on orders, so the schema is invisible to her.
        assert cur.fetchall() == ()
    conn.close()
    assert 'already exists' in _fails(stack, 'database', 'db', 'create', iid, 'orders')

    code, body = stack.request('GET', '/instances/%s/databases/orders' % iid)
    assert (code, body) == (200, {'database': {'name': 'orders'}})
    for name in ('p1', 'p2', 'p3'):
        stack.cli('database', 'db', 'create', iid, name)
    code, body = stack.request('GET', '/instances/%s/databases?limit=2' % iid)
    assert code == 200
    assert [d['name'] for d in body['databases']] == ['orders', 'p1']
    next_href = body['links'][0]['href']
    assert 'marker=p1' in next_href
    code, body = stack.request('GET', '/instances/%s/databases?limit=2&marker=p1' % iid)
    assert [d['name'] for d in body['databases']] == ['p2', 'p3']
    code, body = stack.request('GET', '/instances/%s/databases?limit=2&marker=p3' % iid)
    assert [d['name'] for d in body['databases']] == ['shop'] and 'links' not in body

    for name in ('orders', 'p1', 'p2', 'p3'):
        stack.cli('database', 'db', 'delete', iid, name)
    names = [d['Name'] for d in stack.cli_json('database', 'db', 'list', iid)]
    assert names == ['shop']
    assert 'could not be found' in _fails(stack, 'database', 'db', 'delete', iid, 'orders')


def test_users_and_access(stack, instance):
    iid = instance['id']
    stack.cli('database', 'user', 'create', iid, 'bob', USER_PW, '--databases', 'shop')
    users = stack.cli_json('database', 'user', 'list', iid)
    assert sorted(u['Name'] for u in users) == ['alice', 'bob']
    shown = stack.cli_json('database', 'user', 'show', iid, 'bob')
    assert shown['name'] == 'bob' and shown['host'] == '%'
    assert 'already exists' in _fails(stack, 'database', 'user', 'create', iid, 'bob', 'x1')

    # Granted at create: bob can use shop.
    conn = _connect(instance, 'bob', USER_PW, 'shop')
    with conn.cursor() as cur:
        cur.execute('CREATE TABLE t (id INT)')
    conn.close()
    access = stack.cli_json('database', 'user', 'show', 'access', iid, 'bob')
    assert [a['Name'] for a in access] == ['shop']

    stack.cli('database', 'user', 'revoke', 'access', iid, 'bob', 'shop')
    assert _login_error(instance, 'bob', USER_PW, 'shop') == 1044
    assert stack.cli_json('database', 'user', 'show', 'access', iid, 'bob') == []
    stack.cli('database', 'user', 'grant', 'access', iid, 'bob', 'shop')
    assert _login_error(instance, 'bob', USER_PW, 'shop') is None

    stack.cli('database', 'user', 'update', 'attributes', iid, 'bob',
              '--new_password', NEW_PW)
    assert _login_error(instance, 'bob', NEW_PW, 'shop') is None
    assert _login_error(instance, 'bob', USER_PW, 'shop') == 1045

    # Several passwords at once (PUT /users, no CLI command for it).
    code, _ = stack.request('PUT', '/instances/%s/users' % iid,
                            {'users': [{'name': 'bob', 'password': USER_PW}]})
    assert code == 202
    assert _login_error(instance, 'bob', USER_PW, 'shop') is None

    stack.cli('database', 'user', 'delete', iid, 'bob')
    # An unknown user is refused with 1045 or, from MariaDB 10.4 on, 1698.
    assert _login_error(instance, 'bob', USER_PW) in (1045, 1698)
    assert 'cannot be found' in _fails(stack, 'database', 'user', 'show', iid, 'bob')


def test_user_with_host_is_addressed_as_name_at_host(stack, instance):
    iid = instance['id']
    stack.cli('database', 'user', 'create', iid, 'carol', USER_PW, '--host', '127.0.0.1')
    shown = stack.cli_json('database', 'user', 'show', iid, 'carol', '--host', '127.0.0.1')
    assert shown['host'] == '127.0.0.1'
    # carol@% does not exist: the host is part of the identity.
    assert 'cannot be found' in _fails(stack, 'database', 'user', 'show', iid, 'carol')
    stack.cli('database', 'user', 'delete', iid, 'carol', '--host', '127.0.0.1')


def test_root(stack, instance):
    iid = instance['id']
    assert stack.cli_json('database', 'root', 'show', iid)['is_root_enabled'] is False
    enabled = stack.cli_json('database', 'root', 'enable', iid)
    assert enabled['name'] == 'root' and len(enabled['password']) >= 20
    assert stack.cli_json('database', 'root', 'show', iid)['is_root_enabled'] is True
    conn = _connect(instance, 'root', enabled['password'])
    with conn.cursor() as cur:
        cur.execute('SELECT CURRENT_USER()')
        assert cur.fetchone() == ('root@%',)
    conn.close()

    chosen = stack.cli_json('database', 'root', 'enable', iid, '--root_password', 'My-R00t')
    assert chosen['password'] == 'My-R00t'
    assert _login_error(instance, 'root', enabled['password']) == 1045
    assert _login_error(instance, 'root', 'My-R00t') is None

    stack.cli('database', 'root', 'disable', iid)
    assert _login_error(instance, 'root', 'My-R00t') == 1045
    assert stack.cli_json('database', 'root', 'show', iid)['is_root_enabled'] is False


def _request_as(stack, tenant, method, path, body=None):
    """A request of a member (not an admin: admins address every project)."""
    url = 'http://127.0.0.1:%d/v1.0/%s%s' % (stack.port, tenant, path)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={'Content-Type': 'application/json',
                                          'X-Roles': 'member'})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b'null')
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b'null')


def test_errors(stack, instance):
    iid = instance['id']
    base = '/instances/%s' % iid
    started = time.monotonic()
    bad = [
        ('POST', '/databases', {}),
        ('POST', '/databases', {'databases': []}),
        ('POST', '/databases', {'databases': [{'name': 'bad`name'}]}),
        ('POST', '/databases', {'databases': [{'name': 'mysql'}]}),
        ('POST', '/users', {'users': [{'name': 'dave'}]}),
        ('POST', '/users', {'users': [{'name': 'os_admin', 'password': 'x1'}]}),
        ('POST', '/users', {'users': [{'name': 'x y', 'password': 'x1'}]}),
        ('PUT', '/users/alice', {'user': {}}),
        ('PUT', '/users/alice/databases', {'databases': 'shop'}),
        ('POST', '/root', {'password': ''}),
    ]
    for method, path, body in bad:
        code, fault = stack.request(method, base + path, body)
        assert code == 400, (method, path, code, fault)
        assert fault['badRequest']['code'] == 400
    missing = [
        ('GET', '/databases/nope'), ('DELETE', '/databases/nope'),
        ('GET', '/users/nobody'), ('DELETE', '/users/nobody'),
        ('GET', '/users/alice@10.9.9.9'), ('GET', '/users/nobody/databases'),
        ('DELETE', '/users/alice/databases/nope'),
    ]
    for method, path in missing:
        code, fault = stack.request(method, base + path)
        assert code == 404, (method, path, code, fault)
        assert fault['itemNotFound']['code'] == 404
    code, _ = stack.request('PUT', base + '/users/alice/databases',
                            {'databases': [{'name': 'nope'}]})
    assert code == 404
    # Guest-side errors are quick calls, not timeouts.
    assert time.monotonic() - started < 60

    unknown = '/instances/00000000-0000-0000-0000-000000000000'
    for path in ('/databases', '/users', '/root'):
        assert stack.request('GET', unknown + path)[0] == 404
        assert _request_as(stack, 'tenant-b', 'GET', base + path)[0] == 404
    assert _request_as(stack, 'tenant-b', 'POST', base + '/root')[0] == 404
    # Nothing changed on the instance through all of that.
    names = [d['Name'] for d in stack.cli_json('database', 'db', 'list', iid)]
    assert names == ['shop']


def test_no_password_in_logs(stack, instance):
    """Runs last: no password used above appears in any daemon or guest log."""
    secrets = [USER_PW, NEW_PW, 'My-R00t', 'Al1ce-pw']
    checked = 0
    for root, _dirs, files in os.walk(stack.dir):
        for name in files:
            if not name.endswith(('.log', '.out')):
                continue
            with open(os.path.join(root, name), errors='replace') as f:
                text = f.read()
            checked += 1
            leaked = [s for s in secrets if s in text]
            assert not leaked, (name, leaked)
    assert checked >= 4  # api, taskmanager, conductor and at least one guest log
