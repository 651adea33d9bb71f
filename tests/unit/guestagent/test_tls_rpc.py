"""Guest TLS endpoints (GuestAPI 1.9): the client, the endpoints, the files
they leave, over a fake transport with sealed messages."""
import logging
import os
import types

import pytest
from oslo_messaging.rpc import dispatcher

from tests.functional import tls_certs
from tests.unit.fake_engine import MemoryEngine
from trove.common import exception
from trove.conf import CONF
from trove.guestagent import manager, rpcapi
from trove.guestagent.engines.common import tls_files

P12_PASSWORD = 'p12-Secret-pw'


class _Reporter:
    def send(self, status, replication=None, sent=None, archive_latest=None):
        pass

    def error(self, message, details=None):
        pass


class RecordingTls(tls_files.EngineTls):
    """The real store and answers; the engine part only records."""

    owner = None

    def __init__(self, engine):
        super().__init__(engine)
        self.configured = []

    def _configure(self):
        current = self.store.current()
        self.configured.append(current['mode'] if current else None)
        return len(self.configured) == 1  # only the first change "needs a restart"

    def _restart_pending(self):
        return False


class TlsEngine(MemoryEngine):
    def __init__(self, state_dir):
        super().__init__()
        self.paths = types.SimpleNamespace(state_dir=state_dir, volume_dir=state_dir)
        self.tls = RecordingTls(self)


def _unwrapped(func, **kwargs):
    try:
        return func(None, **kwargs)
    except dispatcher.ExpectedException as exc:
        raise exc.exc_info[1]


@pytest.fixture(scope='module')
def bundle():
    return tls_certs.make_bundle('127.0.0.9', 'alice', password=P12_PASSWORD)


@pytest.fixture
def mgr(tmp_path):
    return manager.Manager(engine=TlsEngine(str(tmp_path)), reporter=_Reporter())


@pytest.fixture
def fake_transport(db):
    from trove.common import rpc
    CONF.set_override('transport_url', 'fake:/')
    rpc.cleanup()
    yield rpc
    rpc.cleanup()
    CONF.clear_override('transport_url')


def test_client_uses_version_1_9_and_base64(monkeypatch):
    sent = []
    api = rpcapi.GuestAPI.__new__(rpcapi.GuestAPI)
    monkeypatch.setattr(api, '_call', lambda method, timeout, version='1.0', **kw:
                        sent.append((method, timeout, version, kw)))
    api.ssl_apply(mode='mtls', p12=b'\x00\x01', password='pw')
    api.ssl_disable()
    api.ssl_rollback()
    api.ssl_show(include_certificate=True)
    assert [s[0] for s in sent] == ['ssl_apply', 'ssl_disable', 'ssl_rollback', 'ssl_show']
    assert all(s[2] == '1.9' for s in sent)
    assert sent[0][3] == {'mode': 'mtls', 'p12': 'AAE=', 'password': 'pw'}
    assert sent[3][1] == CONF.agent_call_low_timeout


def test_endpoints_apply_show_rollback(mgr, bundle, caplog):
    import base64
    caplog.set_level(logging.DEBUG)
    p12 = base64.b64encode(bundle['p12_payload']).decode()
    answer = _unwrapped(mgr.ssl_apply, mode='enforced', p12=p12, password=P12_PASSWORD)
    assert (answer['status'], answer['mode'], answer['restart_required']) == (
        'on', 'enforced', True)
    assert answer['subject'] == 'CN=127.0.0.9' and 'certificate' not in answer
    shown = _unwrapped(mgr.ssl_show, include_certificate=True)
    assert shown['certificate'] == bundle['cert']
    with pytest.raises(exception.BadRequest, match='password'):
        _unwrapped(mgr.ssl_apply, mode='basic', p12=p12)
    with pytest.raises(exception.BadRequest, match='base64'):
        _unwrapped(mgr.ssl_apply, mode='basic', p12='%%%')
    assert _unwrapped(mgr.ssl_show)['mode'] == 'enforced'  # the failures changed nothing
    assert _unwrapped(mgr.ssl_disable)['status'] == 'off'
    assert _unwrapped(mgr.ssl_rollback)['mode'] == 'enforced'
    with pytest.raises(exception.BadRequest, match='roll back'):
        _unwrapped(mgr.ssl_rollback)
    assert mgr.engine.tls.configured == ['enforced', None, 'enforced']
    assert P12_PASSWORD not in caplog.text and 'PRIVATE KEY' not in caplog.text


def test_engine_without_tls_answers_not_supported(tmp_path):
    mgr = manager.Manager(engine=MemoryEngine(), reporter=_Reporter())
    with pytest.raises(exception.DatastoreOperationNotSupported):
        _unwrapped(mgr.ssl_show)


def test_guest_api_reaches_the_endpoints_over_a_transport(fake_transport, mgr, bundle):
    from trove.common import context as trove_context
    server = fake_transport.get_server(rpcapi.guest_topic('i-t'), 'i-t', [mgr])
    server.start()
    try:
        guest = rpcapi.GuestAPI(trove_context.TroveContext(project_id='t1'), 'i-t')
        answer = guest.ssl_apply(mode='basic', p12=bundle['p12_payload'],
                                 password=P12_PASSWORD)
        assert answer['mode'] == 'basic'
        with pytest.raises(exception.BadRequest):
            guest.ssl_apply(mode='basic', p12=bundle['p12_payload'], password='wrong')
        assert guest.ssl_show()['status'] == 'on'
        assert guest.ssl_rollback()['status'] == 'off'
    finally:
        server.stop()
        server.wait()
    assert not os.path.exists(mgr.engine.tls.store.path(tls_files.KEY_FILE))
