"""openstacksdk's ``conn.database`` proxy against a real stack and MariaDB.

Automation uses openstacksdk rather than troveclient.  Several of its request
bodies are not what Trove's API takes, upstream's included: those calls are
refused here with the 400 upstream answers too, and every call whose request
upstream accepts works.  The README's table lists each call and its result;
this test is where the table comes from.
"""
import openstack
import pymysql
import pytest
from openstack import exceptions as sdk_exc

from tests.functional.helpers import healthy_or_error, mariadb_sql


@pytest.fixture(scope='module')
def conn(stack):
    # The no-auth pipeline: a token is sent but not checked, the project is
    # the URL's.
    return openstack.connection.Connection(
        auth_type='none', database_endpoint_override=stack.endpoint,
        region_name='RegionOne')


@pytest.fixture(scope='module')
def instance(stack, conn):
    # create_instance cannot make one (see test_calls_upstream_refuses_too).
    code, body = stack.request('POST', '/instances', {'instance': {
        'name': 'ft-sdk', 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb'}}})
    assert code == 200, body
    inst = stack.wait_instance(body['instance']['id'], healthy_or_error)['instance']
    assert inst['status'] == 'ACTIVE', inst
    yield inst
    doomed = conn.database.get_instance(inst['id'])
    conn.database.delete_instance(doomed, ignore_missing=False)
    conn.database.wait_for_delete(doomed, wait=120)
    assert stack.request('GET', '/instances/%s' % inst['id'])[0] == 404


def test_flavors(conn):
    # Numeric flavor ids are integers in Trove's flavor views, upstream's too.
    flavors = {str(f.id): f for f in conn.database.flavors()}
    assert flavors['2'].name == 'm1.small' and flavors['2'].ram > 0
    assert conn.database.get_flavor('2').name == 'm1.small'
    assert str(conn.database.find_flavor('m1.small').id) == '2'


def test_instances(conn, instance):
    assert instance['id'] in [i.id for i in conn.database.instances()]
    got = conn.database.get_instance(instance['id'])
    assert (got.name, got.status) == ('ft-sdk', 'ACTIVE')
    assert got.datastore['type'] == 'mariadb'
    assert conn.database.find_instance('ft-sdk').id == instance['id']
    assert conn.database.wait_for_status(got, 'ACTIVE', wait=30).id == instance['id']


def test_rename_with_update_instance(conn, stack, instance):
    conn.database.update_instance(instance['id'], name='ft-sdk-renamed')
    code, body = stack.request('GET', '/instances/%s' % instance['id'])
    assert body['instance']['name'] == 'ft-sdk-renamed'
    conn.database.update_instance(instance['id'], name='ft-sdk')
    assert conn.database.get_instance(instance['id']).name == 'ft-sdk'


def test_databases_and_users_listed_and_deleted(conn, stack, instance):
    iid = instance['id']
    assert stack.request('POST', '/instances/%s/databases' % iid,
                         {'databases': [{'name': 'shop'}]})[0] == 202
    assert stack.request('POST', '/instances/%s/users' % iid, {'users': [{
        'name': 'bob', 'password': 'B0b-pass', 'databases': [{'name': 'shop'}]}]})[0] == 202
    assert 'shop' in [d.name for d in conn.database.databases(iid)]
    users = {u.name: u for u in conn.database.users(iid)}
    assert [d['name'] for d in users['bob'].databases] == ['shop']
    assert mariadb_sql(instance, 'bob', 'B0b-pass', 'SELECT DATABASE()') == (('shop',),)
    conn.database.delete_user('bob', instance=iid, ignore_missing=False)
    assert 'bob' not in [u.name for u in conn.database.users(iid)]
    with pytest.raises(pymysql.err.OperationalError):
        mariadb_sql(instance, 'bob', 'B0b-pass', 'SELECT 1')
    conn.database.delete_database('shop', instance=iid, ignore_missing=False)
    assert 'shop' not in [d.name for d in conn.database.databases(iid)]


def test_root(conn, instance):
    inst = conn.database.get_instance(instance['id'])
    assert inst.is_root_enabled(conn.database) is False
    root = inst.enable_root_user(conn.database)
    assert root['name'] == 'root' and root['password']
    assert inst.is_root_enabled(conn.database) is True
    assert mariadb_sql(instance, 'root', root['password'], 'SELECT 1', database=None) == ((1,),)


def test_calls_upstream_refuses_too(conn, stack, instance):
    """Bodies upstream Trove's schemas refuse as well: a 400 that changes nothing."""
    before = len(list(conn.database.instances()))
    # {"instance": {"flavor": ...}}: upstream requires flavorRef.
    with pytest.raises(sdk_exc.BadRequestException, match='flavorRef'):
        conn.database.create_instance(name='x', flavor='2', volume={'size': 1})
    assert len(list(conn.database.instances())) == before
    iid = instance['id']
    # {"database": {...}}: upstream requires a "databases" list.
    with pytest.raises(sdk_exc.BadRequestException):
        conn.database.create_database(iid, name='other')
    assert 'other' not in [d.name for d in conn.database.databases(iid)]
    inst = conn.database.get_instance(iid)
    # restart() and resize_volume() do not look at the answer (no error is
    # raised to the caller): the same requests through the proxy's session
    # show the 400.  {"restart": null}: upstream's restart must be an object;
    # {"resize": {"volume": 2}}: upstream's volume is {"size": N}.
    inst.restart(conn.database)
    inst.resize_volume(conn.database, 2)
    url = '/instances/%s/action' % iid
    for body in ({'restart': None}, {'resize': {'volume': 2}}):
        resp = conn.database.post(url, json=body)
        assert resp.status_code == 400, resp.text
        assert resp.json()['badRequest']['message'].startswith('Validation error')
    code, body = stack.request('GET', '/instances/%s' % iid)
    assert body['instance']['status'] == 'ACTIVE' and body['instance']['volume']['size'] == 1
    # POST /users/{name} with {"users": {...}}: no such route upstream.
    with pytest.raises(sdk_exc.HttpException) as err:
        conn.database.create_user(iid, name='carol', password='C4rol-pw')
    assert err.value.status_code in (404, 405)
    assert 'carol' not in [u.name for u in conn.database.users(iid)]


def test_resize_and_delete(conn, stack, instance):
    inst = conn.database.get_instance(instance['id'])
    inst.resize(conn.database, '3')
    body = stack.wait_instance(instance['id'], lambda c, b: c == 200 and b['instance'][
        'flavor']['id'] == '3' and healthy_or_error(c, b), timeout=300)
    assert body['instance']['status'] == 'ACTIVE'
