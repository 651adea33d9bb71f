"""Guest manager database/user/root endpoints and how their errors cross RPC."""
import sys

import oslo_messaging as messaging
import pytest
from oslo_messaging._drivers import common as driver_common
from oslo_messaging.rpc import dispatcher

from trove.common import context as trove_context
from trove.common import exception, rpc
from trove.conf import CONF
from trove.guestagent import manager, rpcapi

from tests.unit.fake_engine import MemoryEngine


class _Reporter:
    def send(self, status, replication=None, sent=None, archive_latest=None):
        pass

    def error(self, message, details=None):
        pass


@pytest.fixture
def mgr():
    return manager.Manager(engine=MemoryEngine(), reporter=_Reporter())


def _unwrapped(func, **kwargs):
    """Call an endpoint as the RPC server does (ExpectedException unwrapped)."""
    try:
        return func(None, **kwargs)
    except dispatcher.ExpectedException as exc:
        raise exc.exc_info[1]


def test_paginate():
    items = [{'name': n} for n in ('c', 'a', 'b', 'd')]
    key = manager._db_key
    assert manager.paginate(items, key) == [sorted(items, key=key), None]
    page, marker = manager.paginate(items, key, limit=2)
    assert [i['name'] for i in page] == ['a', 'b'] and marker == 'b'
    page, marker = manager.paginate(items, key, limit=2, marker='b')
    assert [i['name'] for i in page] == ['c', 'd'] and marker is None
    page, _ = manager.paginate(items, key, limit=1, marker='b', include_marker=True)
    assert page == [{'name': 'b'}]


def test_user_pages_use_name_at_host(mgr):
    mgr.engine.create_users([{'name': 'a', 'password': 'p'},
                             {'name': 'a', 'password': 'p', 'host': '10.0.0.1'},
                             {'name': 'b', 'password': 'p'}])
    page, marker = _unwrapped(mgr.list_users, limit=2)
    assert [(u['name'], u['host']) for u in page] == [('a', '%'), ('a', '10.0.0.1')]
    assert marker == 'a@10.0.0.1'
    page, marker = _unwrapped(mgr.list_users, limit=2, marker=marker)
    assert [u['name'] for u in page] == ['b'] and marker is None


def test_create_existing_is_refused_before_anything_changes(mgr):
    _unwrapped(mgr.create_database, databases=[{'name': 'shop'}])
    with pytest.raises(exception.DatabaseAlreadyExists):
        _unwrapped(mgr.create_database, databases=[{'name': 'new'}, {'name': 'shop'}])
    assert sorted(mgr.engine.dbs) == ['shop']
    _unwrapped(mgr.create_user, users=[{'name': 'bob', 'password': 'p'}])
    with pytest.raises(exception.UserAlreadyExists):
        _unwrapped(mgr.create_user, users=[{'name': 'bob', 'host': '%', 'password': 'q'}])
    _unwrapped(mgr.create_user, users=[{'name': 'bob', 'host': 'h1', 'password': 'q'}])


def test_trove_errors_are_expected_and_keep_their_class(mgr):
    with pytest.raises(dispatcher.ExpectedException) as info:
        mgr.get_user(None, username='nobody', hostname='%')
    assert isinstance(info.value.exc_info[1], exception.UserNotFound)


def test_driver_errors_become_engine_errors_without_sql(mgr, monkeypatch):
    import pymysql

    def boom(*args):
        raise pymysql.err.ProgrammingError(1064, "near 'IDENTIFIED BY 'secret''")
    monkeypatch.setattr(mgr.engine, 'change_passwords', boom)
    with pytest.raises(exception.EngineError) as info:
        _unwrapped(mgr.change_passwords, users=[{'name': 'bob', 'password': 'secret'}])
    assert info.value.code == 500 and 'secret' not in info.value.msg
    assert 'change_passwords failed: error 1064' in info.value.msg

    def other(*args):
        raise pymysql.err.OperationalError(1396, "Operation RENAME USER failed")
    monkeypatch.setattr(mgr.engine, 'update_user', lambda *a, **k: other())
    with pytest.raises(exception.EngineError) as info:
        _unwrapped(mgr.update_attributes, username='bob', hostname='%',
                   user_attrs={'name': 'rob'})
    assert 'RENAME USER failed' in info.value.msg


def test_root_endpoints(mgr):
    assert _unwrapped(mgr.is_root_enabled) is False
    user = _unwrapped(mgr.enable_root)
    assert user['name'] == 'root' and user['password']
    assert _unwrapped(mgr.enable_root_with_password, root_password='pw')['password'] == 'pw'
    _unwrapped(mgr.disable_root)
    assert _unwrapped(mgr.is_root_enabled) is False


@pytest.mark.parametrize('error', [
    exception.UserNotFound(name='bob@%'),
    exception.DatabaseNotFound(name='shop'),
    exception.DatabaseAlreadyExists(name='shop'),
    exception.UserAlreadyExists(name='bob@%'),
    exception.BadRequest(detail='bad name'),
    exception.EngineError(detail='boom'),
    exception.DatastoreOperationNotSupported(operation='x', datastore='redis'),
])
def test_remote_errors_survive_the_wire_format(error):
    """What the rabbit driver does to a guest exception, end to end."""
    try:
        raise error
    except exception.TroveError:
        data = driver_common.serialize_remote_exception(sys.exc_info())
    back = driver_common.deserialize_remote_exception(data, rpc.ALLOWED_EXMODS)
    assert isinstance(back, type(error))
    assert back.code == error.code and back.msg == error.msg


@pytest.fixture
def fake_transport(db):
    CONF.set_override('transport_url', 'fake:/')
    rpc.cleanup()
    yield
    rpc.cleanup()
    CONF.clear_override('transport_url')


def test_guest_api_over_a_transport(fake_transport, mgr):
    server = rpc.get_server(rpcapi.guest_topic('i-1'), 'i-1', [mgr])
    server.start()
    try:
        guest = rpcapi.GuestAPI(trove_context.TroveContext(project_id='t1'), 'i-1')
        guest.create_database(databases=[{'name': 'shop'}])
        assert guest.list_databases(limit=5) == [
            [{'name': 'shop', 'character_set': 'utf8mb4', 'collate': None}], None]
        with pytest.raises(exception.UserNotFound):
            guest.get_user(username='bob', hostname='%')
        with pytest.raises(exception.DatabaseAlreadyExists):
            guest.create_database(databases=[{'name': 'shop'}])
    finally:
        server.stop()
        server.wait()


def test_no_guest_is_a_guest_timeout(fake_transport):
    CONF.set_override('agent_call_low_timeout', 1)
    try:
        guest = rpcapi.GuestAPI(trove_context.TroveContext(project_id='t1'), 'i-none')
        with pytest.raises(exception.GuestTimeout):
            guest.is_root_enabled()
    finally:
        CONF.clear_override('agent_call_low_timeout')


def test_unknown_remote_error_is_a_guest_error(monkeypatch):
    class Ctx:
        def call(self, *args, **kwargs):
            raise messaging.RemoteError('KeyError', 'x')
    guest = rpcapi.GuestAPI.__new__(rpcapi.GuestAPI)
    guest.context = None
    guest.client = type('C', (), {'prepare': lambda self, **kw: Ctx()})()
    with pytest.raises(exception.GuestError) as info:
        guest.list_access(username='bob', hostname='%')
    assert 'KeyError' in info.value.msg
