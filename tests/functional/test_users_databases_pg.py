"""Databases, users and root of a real PostgreSQL instance through the real CLI.

One instance is built with ``openstack database instance create``; databases,
users with access, revoke/grant and root are driven with ``openstack
database db|user|root`` and checked by logging in with psycopg over TCP.
"""
import psycopg
import pytest

from tests.functional.stack import Stack
from tests.functional.helpers import pg_version

PW = 'D4ve-secret'


@pytest.fixture(scope='module')
def stack():
    version = pg_version()
    if not version:
        pytest.skip('PostgreSQL binaries are missing')
    st = Stack()
    try:
        st.start(datastore_versions=[('postgresql', version, 'postgresql')])
        st.version = version
        yield st
    finally:
        st.stop()


@pytest.fixture(scope='module')
def instance(stack):
    created = stack.cli_json('database', 'instance', 'create', 'ft-pg-users', '--flavor',
                             '2', '--size', '1', '--datastore', 'postgresql',
                             '--datastore-version', stack.version, '--databases', 'shop')
    body = stack.wait_instance(created['id'], lambda c, b: c == 200 and (
        b['instance']['status'] == 'ERROR' or
        b['instance']['operating_status'] == 'HEALTHY'))
    inst = body['instance']
    assert inst['status'] == 'ACTIVE', inst
    yield {'id': inst['id'], 'address': inst['addresses'][0]['address']}
    stack.cli('database', 'instance', 'delete', inst['id'])
    stack.wait_instance(inst['id'], lambda c, b: c == 404, timeout=120)


def _login(instance, user, password, dbname):
    """None when ``user`` can connect to ``dbname``, else the error text."""
    try:
        with psycopg.connect(host=instance['address'], port=5432, user=user,
                             password=password, dbname=dbname, connect_timeout=10) as conn:
            conn.execute('SELECT 1')
    except psycopg.OperationalError as exc:
        return str(exc)
    return None


def test_databases_users_access_and_root(stack, instance):
    iid = instance['id']
    stack.cli('database', 'db', 'create', iid, 'orders')
    names = [d['Name'] for d in stack.cli_json('database', 'db', 'list', iid)]
    assert names == ['orders', 'shop']

    stack.cli('database', 'user', 'create', iid, 'dave', PW, '--databases', 'orders')
    assert [u['Name'] for u in stack.cli_json('database', 'user', 'list', iid)] == ['dave']
    access = stack.cli_json('database', 'user', 'show', 'access', iid, 'dave')
    assert [a['Name'] for a in access] == ['orders']
    assert _login(instance, 'dave', PW, 'orders') is None
    with psycopg.connect(host=instance['address'], port=5432, user='dave', password=PW,
                         dbname='orders', connect_timeout=10, autocommit=True) as conn:
        conn.execute('CREATE TABLE t (id INT)')
    # No grant on shop: connecting there is refused.
    assert 'permission denied' in (_login(instance, 'dave', PW, 'shop') or '')

    stack.cli('database', 'user', 'revoke', 'access', iid, 'dave', 'orders')
    assert 'permission denied' in (_login(instance, 'dave', PW, 'orders') or '')
    assert stack.cli_json('database', 'user', 'show', 'access', iid, 'dave') == []
    stack.cli('database', 'user', 'grant', 'access', iid, 'dave', 'orders')
    assert _login(instance, 'dave', PW, 'orders') is None

    assert stack.cli_json('database', 'root', 'show', iid)['is_root_enabled'] is False
    assert _login(instance, 'root', 'anything', 'postgres') is not None
    root = stack.cli_json('database', 'root', 'enable', iid)
    assert root['name'] == 'root' and root['password']
    assert _login(instance, 'root', root['password'], 'postgres') is None
    assert stack.cli_json('database', 'root', 'show', iid)['is_root_enabled'] is True
    stack.cli('database', 'root', 'disable', iid)
    assert _login(instance, 'root', root['password'], 'postgres') is not None

    stack.cli('database', 'user', 'delete', iid, 'dave')
    assert _login(instance, 'dave', PW, 'orders') is not None
    stack.cli('database', 'db', 'delete', iid, 'orders')
    assert [d['Name'] for d in stack.cli_json('database', 'db', 'list', iid)] == ['shop']
