"""Guest replication endpoints (GuestAPI 1.5): forwarding, errors, masking."""
import logging

import pytest
from oslo_messaging.rpc import dispatcher

from trove.common import exception
from trove.conf import CONF
from trove.guestagent import manager, rpcapi
from trove.guestagent.engines import replication as repl_base

from tests.unit.fake_engine import MemoryEngine

SECRET = 'Sup3r-secret'


class _Reporter:
    def send(self, status, replication=None, sent=None, archive_latest=None):
        pass

    def error(self, message, details=None):
        pass


class RecordingReplication(repl_base.Replication):
    """Records calls; a stand-in for an engine's handler in unit tests."""

    def __init__(self, engine):
        super().__init__(engine)
        self.calls = []
        self.fail_with = None

    def _record(self, name, *args, **kwargs):
        self.calls.append((name, args, kwargs))
        if self.fail_with:
            raise self.fail_with

    def ensure_replication_user(self, user, password, replica_host=None):
        self._record('ensure_replication_user', user, password, replica_host=replica_host)

    def snapshot_position(self):
        return {'gtid': '0-1-9'}

    def set_read_only(self, read_only):
        self._record('set_read_only', read_only)

    def attach(self, primary_host, primary_port, user, password, position=None, slot=None):
        self._record('attach', primary_host, primary_port, user, password,
                     position=position, slot=slot)

    def promote(self):
        self._record('promote')

    def demote(self, primary_host, primary_port, user, password, slot=None):
        self._record('demote', primary_host, primary_port, user, password, slot=slot)

    def set_synchronous(self, enabled, timeout):
        self._record('set_synchronous', enabled, timeout)

    def detach(self):
        self._record('detach')

    def position(self):
        return {'gtid': '0-1-7'}

    @staticmethod
    def compare(a, b):
        x, y = int(a['gtid'].split('-')[2]), int(b['gtid'].split('-')[2])
        return (x > y) - (x < y)

    def status(self):
        return repl_base.status_dict(repl_base.PRIMARY, position=self.position())


class ReplicatingEngine(MemoryEngine):
    def __init__(self):
        super().__init__()
        self._repl = RecordingReplication(self)

    @property
    def replication(self):
        return self._repl


def _unwrapped(func, **kwargs):
    try:
        return func(None, **kwargs)
    except dispatcher.ExpectedException as exc:
        raise exc.exc_info[1]


@pytest.fixture
def mgr():
    return manager.Manager(engine=ReplicatingEngine(), reporter=_Reporter())


def test_endpoints_forward_to_the_engine(mgr):
    rep = mgr.engine.replication
    _unwrapped(mgr.ensure_replication_user, user='os_repl', password=SECRET)
    _unwrapped(mgr.attach_replica, primary_host='10.0.0.1', primary_port=3306,
               user='os_repl', password=SECRET, position={'gtid': '0-1-3'})
    _unwrapped(mgr.set_read_only, read_only=1)
    _unwrapped(mgr.promote_to_primary)
    _unwrapped(mgr.demote_to_replica, primary_host='10.0.0.2', primary_port=3306,
               user='os_repl', password=SECRET, slot='s1')
    _unwrapped(mgr.detach_replica)
    assert [c[0] for c in rep.calls] == ['ensure_replication_user', 'attach',
                                         'set_read_only', 'promote', 'demote', 'detach']
    assert rep.calls[1] == ('attach', ('10.0.0.1', 3306, 'os_repl', SECRET),
                            {'position': {'gtid': '0-1-3'}, 'slot': None})
    assert rep.calls[2] == ('set_read_only', (True,), {})
    assert _unwrapped(mgr.get_replication_position) == {'gtid': '0-1-7'}
    assert _unwrapped(mgr.get_replication_position, snapshot=True) == {'gtid': '0-1-9'}
    assert _unwrapped(mgr.wait_for_position, position={'gtid': '0-1-5'}, wait_timeout=1)
    assert not _unwrapped(mgr.wait_for_position, position={'gtid': '0-1-8'}, wait_timeout=0)
    assert _unwrapped(mgr.get_replication_status)['role'] == 'primary'
    # Engines without slots accept slot calls as no-ops.
    _unwrapped(mgr.create_replication_slot, name='s1')
    _unwrapped(mgr.drop_replication_slot, name='s1')


def test_engine_without_replication_answers_not_supported():
    mgr = manager.Manager(engine=MemoryEngine(), reporter=_Reporter())
    with pytest.raises(exception.DatastoreOperationNotSupported):
        _unwrapped(mgr.get_replication_status)


def test_passwords_are_masked_in_errors_and_logs(mgr, caplog):
    caplog.set_level(logging.DEBUG)
    mgr.engine.replication.fail_with = RuntimeError('login %s refused' % SECRET)
    with pytest.raises(exception.EngineError) as err:
        _unwrapped(mgr.attach_replica, primary_host='h', primary_port=1, user='u',
                   password=SECRET)
    assert SECRET not in str(err.value) and '***' in str(err.value)
    mgr.engine.replication.fail_with = exception.BadRequest(detail='bad %s' % SECRET)
    with pytest.raises(exception.BadRequest) as err:
        _unwrapped(mgr.demote_to_replica, primary_host='h', primary_port=1, user='u',
                   password=SECRET)
    assert SECRET not in str(err.value)
    assert SECRET not in caplog.text


def test_client_calls_version_1_5_with_bounded_timeouts(monkeypatch):
    sent = []
    api = rpcapi.GuestAPI.__new__(rpcapi.GuestAPI)
    monkeypatch.setattr(api, '_call', lambda method, timeout, version='1.0', **kw:
                        sent.append((method, timeout, version, kw)))
    api.attach_replica(primary_host='h', primary_port=5432, user='u', password='p',
                       slot='s')
    api.wait_for_position(position={'lsn': '0/1'}, timeout=30)
    api.demote_to_replica(primary_host='h', primary_port=1, user='u', password='p',
                          timeout=900)
    api.get_replication_status()
    assert all(s[2] == '1.5' for s in sent)
    assert sent[0][1] == CONF.agent_call_high_timeout
    assert sent[1][1] == 30 + CONF.agent_call_low_timeout
    assert sent[2][1] == 900
    assert sent[3][1] == CONF.agent_call_low_timeout
    assert manager.Manager.target.version == rpcapi.GuestAPI.VERSION == '1.10'


@pytest.fixture
def fake_transport(db):
    from trove.common import rpc
    CONF.set_override('transport_url', 'fake:/')
    rpc.cleanup()
    yield rpc
    rpc.cleanup()
    CONF.clear_override('transport_url')


def test_guest_api_reaches_the_endpoints_over_a_transport(fake_transport, mgr):
    from trove.common import context as trove_context
    server = fake_transport.get_server(rpcapi.guest_topic('i-r'), 'i-r', [mgr])
    server.start()
    try:
        guest = rpcapi.GuestAPI(trove_context.TroveContext(project_id='t1'), 'i-r')
        guest.ensure_replication_user(user='os_repl', password=SECRET)
        guest.attach_replica(primary_host='10.0.0.1', primary_port=3306, user='os_repl',
                             password=SECRET, position={'gtid': '0-1-3'})
        assert guest.get_replication_position(snapshot=True) == {'gtid': '0-1-9'}
        assert guest.wait_for_position(position={'gtid': '0-1-1'}, timeout=1) is True
        assert guest.get_replication_status()['role'] == 'primary'
        guest.set_synchronous(enabled=True, fallback_timeout=2.5)
        guest.promote_to_primary()
        mgr.engine.replication.fail_with = exception.BadRequest(detail='bad host')
        with pytest.raises(exception.BadRequest):
            guest.demote_to_replica(primary_host='x', primary_port=1, user='u',
                                    password=SECRET)
    finally:
        server.stop()
        server.wait()
    names = [c[0] for c in mgr.engine.replication.calls]
    assert names == ['ensure_replication_user', 'attach', 'set_synchronous', 'promote',
                     'demote']
    assert mgr.engine.replication.calls[2][1] == (True, 2.5)


def test_role_changes_run_quiet_for_the_engine_watch(mgr):
    """The watch never restarts the engine a role change stopped on purpose."""
    seen = []
    rep = mgr.engine.replication
    original = rep.attach

    def attach(*args, **kwargs):
        seen.append(mgr.watch._lock.locked())
        return original(*args, **kwargs)
    rep.attach = attach
    _unwrapped(mgr.attach_replica, primary_host='h', primary_port=1, user='u',
               password=SECRET)
    assert seen == [True] and mgr.watch.wanted_up
