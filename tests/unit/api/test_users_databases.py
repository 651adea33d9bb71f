"""Databases, users and root controllers, with the real guest manager over an
in-memory engine injected through ``guest_access.get_guest``."""
import pytest
from oslo_messaging.rpc import dispatcher

from trove.api.controllers import guest_access
from trove.common import states
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import root_history
from trove.guestagent import manager

from tests.unit.api.conftest import call
from tests.unit.fake_engine import MemoryEngine

SS = states.ServiceStatus


class _Reporter:
    def send(self, status, replication=None, sent=None, archive_latest=None):
        pass

    def error(self, message, details=None):
        pass


class FakeGuest:
    """Stands in for GuestAPI: each method runs the guest manager in-process.

    Errors are unwrapped the way the RPC server does, so the API sees the
    same exception class a real guest sends back.
    """

    def __init__(self):
        self.engine = MemoryEngine()
        self.manager = manager.Manager(engine=self.engine, reporter=_Reporter())
        self.calls = []

    def __getattr__(self, method):
        def invoke(**kwargs):
            self.calls.append((method, kwargs))
            try:
                return getattr(self.manager, method)(None, **kwargs)
            except dispatcher.ExpectedException as exc:
                raise exc.exc_info[1]
        return invoke


@pytest.fixture
def guest(monkeypatch):
    fake = FakeGuest()
    monkeypatch.setattr(guest_access, 'get_guest', lambda ctx, iid: fake)
    return fake


def _instance(tenant='t1', service=SS.HEALTHY, server='ACTIVE'):
    inst = db_api.create_instance(dict(name='i1', tenant_id=tenant, flavor_id='1',
                                       datastore_version_id=None))
    db_api.set_task(inst.id, states.InstanceTask.NONE)
    db_api.update_instance(inst.id, server_status=server)
    db_api.set_service_status(inst.id, service)
    return inst.id


@pytest.fixture
def base(app, guest):
    return '/v1.0/t1/instances/%s' % _instance()


def test_database_create_list_show_delete(app, guest, base):
    status, body = call(app, 'POST', base + '/databases',
                        {'databases': [{'name': 'shop', 'character_set': 'utf8'},
                                       {'name': 'crm'}]})
    assert (status, body) == (202, None)
    assert guest.calls[0] == ('create_database', {'databases': [
        {'name': 'shop', 'character_set': 'utf8'}, {'name': 'crm'}]})
    status, body = call(app, 'GET', base + '/databases')
    assert body == {'databases': [{'name': 'crm'}, {'name': 'shop'}]}
    status, body = call(app, 'GET', base + '/databases/shop')
    assert (status, body) == (200, {'database': {'name': 'shop'}})
    assert call(app, 'GET', base + '/databases/nope')[0] == 404
    assert call(app, 'DELETE', base + '/databases/shop') == (202, None)
    status, body = call(app, 'DELETE', base + '/databases/shop')
    assert status == 404 and 'shop' in body['itemNotFound']['message']


def test_database_create_existing_and_duplicate_is_400(app, guest, base):
    call(app, 'POST', base + '/databases', {'databases': [{'name': 'shop'}]})
    status, body = call(app, 'POST', base + '/databases',
                        {'databases': [{'name': 'new'}, {'name': 'shop'}]})
    assert status == 400 and 'already exists' in body['badRequest']['message']
    status, _ = call(app, 'POST', base + '/databases',
                     {'databases': [{'name': 'x1'}, {'name': 'x1'}]})
    assert status == 400
    assert sorted(guest.engine.dbs) == ['shop']  # nothing half-created


def test_database_pagination_next_link(app, guest, base, monkeypatch):
    guest.engine.dbs = {n: 'utf8' for n in ('d1', 'd2', 'd3', 'd4', 'd5')}
    status, body = call(app, 'GET', base + '/databases?limit=2')
    assert [d['name'] for d in body['databases']] == ['d1', 'd2']
    href = body['links'][0]['href']
    assert href.startswith('http://trove.example:8779/v1.0/t1/instances/')
    assert 'marker=d2' in href and 'limit=2' in href
    status, body = call(app, 'GET', base + '/databases?limit=2&marker=d4')
    assert body == {'databases': [{'name': 'd5'}]}
    from trove.conf import CONF
    CONF.set_override('databases_page_size', 3)
    try:
        status, body = call(app, 'GET', base + '/databases?limit=50')
        assert len(body['databases']) == 3 and 'marker=d3' in body['links'][0]['href']
    finally:
        CONF.clear_override('databases_page_size')


@pytest.mark.parametrize('body', [
    None, {}, {'databases': []}, {'databases': [{}]}, {'databases': [{'name': ''}]},
    {'databases': 'shop'}, {'databases': [{'name': 5}]},
])
def test_database_create_bad_bodies(app, guest, base, body):
    status, fault = call(app, 'POST', base + '/databases', body)
    assert status == 400 and 'badRequest' in fault
    assert guest.calls == []


def test_engine_rejects_bad_name_as_400(app, guest, base):
    status, fault = call(app, 'POST', base + '/databases', {'databases': [{'name': 'a`b'}]})
    assert status == 400 and 'not valid' in fault['badRequest']['message']


def test_users_create_show_list_delete(app, guest, base):
    guest.engine.dbs = {'shop': 'utf8'}
    status, _ = call(app, 'POST', base + '/users', {'users': [
        {'name': 'bob', 'password': 'pw1', 'databases': [{'name': 'shop'}]},
        {'name': 'bob', 'password': 'pw2', 'host': '10.0.0.1'}]})
    assert status == 202
    assert guest.engine.users[('bob', '%')]['password'] == 'pw1'
    status, body = call(app, 'GET', base + '/users')
    assert body == {'users': [
        {'name': 'bob', 'host': '%', 'databases': [{'name': 'shop'}]},
        {'name': 'bob', 'host': '10.0.0.1', 'databases': []}]}
    status, body = call(app, 'GET', base + '/users/bob')
    assert body['user']['host'] == '%' and 'password' not in body['user']
    # troveclient quotes "bob@10.0.0.1" and "." as %2e.
    status, body = call(app, 'GET', base + '/users/bob%4010%2e0%2e0%2e1')
    assert (status, body['user']['host']) == (200, '10.0.0.1')
    assert call(app, 'DELETE', base + '/users/bob@10.0.0.1') == (202, None)
    assert call(app, 'GET', base + '/users/bob@10.0.0.1')[0] == 404
    assert guest.calls[-1] == ('get_user', {'username': 'bob', 'hostname': '10.0.0.1'})


def test_users_existing_reserved_and_bad(app, guest, base):
    call(app, 'POST', base + '/users', {'users': [{'name': 'bob', 'password': 'pw1'}]})
    status, body = call(app, 'POST', base + '/users',
                        {'users': [{'name': 'bob', 'password': 'pw1'}]})
    assert status == 400 and 'already exists' in body['badRequest']['message']
    for bad in ({'users': [{'name': 'bob'}]}, {'users': []},
                {'users': [{'name': 'root', 'password': 'pw1'}]},
                {'users': [{'name': 'x', 'password': 'p1', 'host': 'a b'}]},
                {'users': [{'name': 'x', 'password': 'p1'}, {'name': 'x', 'password': 'p2'}]}):
        assert call(app, 'POST', base + '/users', bad)[0] == 400, bad
    assert list(guest.engine.users) == [('bob', '%')]


def test_user_update_and_update_all(app, guest, base):
    call(app, 'POST', base + '/users', {'users': [{'name': 'bob', 'password': 'pw1'},
                                                  {'name': 'eve', 'password': 'pw1'}]})
    assert call(app, 'PUT', base + '/users/bob', {'user': {'password': 'new1'}})[0] == 202
    assert guest.engine.users[('bob', '%')]['password'] == 'new1'
    assert call(app, 'PUT', base + '/users/bob', {'user': {}})[0] == 400
    assert call(app, 'PUT', base + '/users/bob', {'user': {'color': 'red'}})[0] == 400
    status, body = call(app, 'PUT', base + '/users/bob', {'user': {'name': 'eve'}})
    assert status == 400 and 'already exists' in body['badRequest']['message']
    assert call(app, 'PUT', base + '/users/bob', {'user': {'name': 'rob'}})[0] == 202
    assert ('rob', '%') in guest.engine.users and ('bob', '%') not in guest.engine.users
    assert call(app, 'PUT', base + '/users/nobody', {'user': {'password': 'x1'}})[0] == 404
    status, _ = call(app, 'PUT', base + '/users',
                     {'users': [{'name': 'rob', 'password': 'p2'},
                                {'name': 'eve', 'password': 'p3'}]})
    assert status == 202
    assert guest.engine.users[('eve', '%')]['password'] == 'p3'
    assert call(app, 'PUT', base + '/users', {'users': [{'name': 'rob'}]})[0] == 400
    assert call(app, 'PUT', base + '/users',
                {'users': [{'name': 'zed', 'password': 'p1'}]})[0] == 404


def test_user_access_grant_list_revoke(app, guest, base):
    guest.engine.dbs = {'shop': 'utf8', 'crm': 'utf8'}
    call(app, 'POST', base + '/users', {'users': [{'name': 'bob', 'password': 'pw1'}]})
    path = base + '/users/bob/databases'
    assert call(app, 'GET', path) == (200, {'databases': []})
    assert call(app, 'PUT', path, {'databases': [{'name': 'shop'}, {'name': 'crm'}]}) \
        == (202, None)
    assert call(app, 'GET', path)[1] == {'databases': [{'name': 'crm'}, {'name': 'shop'}]}
    assert call(app, 'DELETE', path + '/shop') == (202, None)
    assert call(app, 'GET', path)[1] == {'databases': [{'name': 'crm'}]}
    assert call(app, 'PUT', path, {'databases': [{'name': 'nope'}]})[0] == 404
    assert call(app, 'PUT', path, {'databases': []})[0] == 400
    assert call(app, 'DELETE', path + '/nope')[0] == 404
    assert call(app, 'GET', base + '/users/nobody/databases')[0] == 404


def test_root_enable_show_disable_and_history(app, guest, base):
    iid = base.rsplit('/', 1)[1]
    assert call(app, 'GET', base + '/root') == (200, {'rootEnabled': False})
    status, body = call(app, 'DELETE', base + '/root')
    assert status == 404 and 'never been enabled' in body['itemNotFound']['message']
    status, body = call(app, 'POST', base + '/root')
    assert status == 200
    assert body == {'user': {'name': 'root', 'password': guest.engine.root_password}}
    assert root_history.get(iid).id == iid
    status, body = call(app, 'POST', base + '/root', {'password': 'Chosen-1'})
    assert body['user']['password'] == 'Chosen-1'
    assert guest.calls[-1] == ('enable_root_with_password', {'root_password': 'Chosen-1'})
    assert call(app, 'GET', base + '/root') == (200, {'rootEnabled': True})
    assert call(app, 'POST', base + '/root', {'password': ''})[0] == 400
    assert call(app, 'POST', base + '/root', {'password': 5})[0] == 400
    assert call(app, 'DELETE', base + '/root') == (204, None)
    assert call(app, 'GET', base + '/root') == (200, {'rootEnabled': False})


def test_other_tenant_and_unknown_instance_are_404(app, guest, base):
    """For members; an admin addresses any project's instance (as upstream)."""
    CONF.set_override('noauth_trust_roles_header', True)
    member = {'X-Roles': 'member'}
    iid = base.rsplit('/', 1)[1]
    for path in ('/databases', '/users', '/users/bob', '/users/bob/databases', '/root'):
        status, body = call(app, 'GET', '/v1.0/t2/instances/%s%s' % (iid, path),
                            headers=member)
        assert status == 404 and 'itemNotFound' in body
        assert call(app, 'GET', '/v1.0/t1/instances/nope' + path)[0] == 404
    assert call(app, 'POST', '/v1.0/t2/instances/%s/root' % iid, headers=member)[0] == 404
    assert guest.calls == []
    CONF.clear_override('noauth_trust_roles_header')


@pytest.mark.parametrize('service, server', [
    (SS.BUILDING, 'ACTIVE'), (SS.SHUTDOWN, 'ACTIVE'), (SS.NEW, None),
    (SS.HEALTHY, 'ERROR'), (SS.CRASHED, 'ACTIVE'),
])
def test_not_ready_instance_is_422(app, guest, service, server):
    base = '/v1.0/t1/instances/%s' % _instance(service=service, server=server)
    for method, path in (('GET', '/databases'), ('GET', '/users'), ('POST', '/root'),
                         ('DELETE', '/users/bob')):
        status, body = call(app, method, base + path)
        assert status == 422, (method, path)
        assert 'not ready' in body['unprocessableEntity']['message']
    assert guest.calls == []


def test_building_instance_is_422(app, guest):
    inst = db_api.create_instance(dict(name='i1', tenant_id='t1', flavor_id='1'))
    status, _ = call(app, 'GET', '/v1.0/t1/instances/%s/databases' % inst.id)
    assert status == 422


def test_guest_errors_map_to_status(app, guest, base, monkeypatch):
    from trove.common import exception

    def timeout(**kwargs):
        raise exception.GuestTimeout()

    def unsupported(**kwargs):
        raise exception.DatastoreOperationNotSupported(operation='list_access',
                                                       datastore='redis')
    monkeypatch.setattr(FakeGuest, 'list_users', staticmethod(timeout), raising=False)
    monkeypatch.setattr(FakeGuest, 'list_access', staticmethod(unsupported), raising=False)
    status, body = call(app, 'GET', base + '/users')
    assert status == 400 and 'Timeout' in body['badRequest']['message']
    status, body = call(app, 'GET', base + '/users/bob/databases')
    assert status == 501 and 'notImplemented' in body
