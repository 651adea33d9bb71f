"""``/instances/{id}/ssl`` through the paste app: the real guest manager and
TLS store behind a fake guest client, an in-memory key manager with
consumers in place of Barbican."""
import base64
import uuid

import pytest
from castellan.common import exception as km_exc

from tests.functional import tls_certs
from tests.unit.api.conftest import call
from tests.unit.api.test_configurations_api import _instance as cfg_instance
from tests.unit.api.test_configurations_api import tm  # noqa: F401
from tests.unit.api.test_users_databases import FakeGuest, _instance
from tests.unit.guestagent.test_tls_rpc import TlsEngine
from trove.api.controllers import guest_access
from trove.common import key_manager, states
from trove.conf import CONF
from trove.db import api as db_api
from trove.guestagent import manager

P12_PASSWORD = 'p12-Secret-pw'
ENDPOINT = 'http://barbican.test:9311/v1/secrets/'


class _Secret:
    def __init__(self, payload):
        self.payload = payload

    def get_encoded(self):
        return self.payload


class MemoryKeyManager:
    """Secrets and their consumers, like Barbican's."""

    def __init__(self):
        self.secrets, self.consumers = {}, {}

    def store_secret(self, payload):
        sid = str(uuid.uuid4())
        self.secrets[sid] = payload
        self.consumers[sid] = []
        return ENDPOINT + sid

    def get(self, context, sid, metadata_only=False):
        if sid not in self.secrets:
            raise km_exc.ManagedObjectNotFoundError(uuid=sid)
        return _Secret(self.secrets[sid])

    def add_consumer(self, context, sid, consumer):
        self.get(context, sid)
        if consumer not in self.consumers[sid]:
            self.consumers[sid].append(consumer)

    def remove_consumer(self, context, sid, consumer):
        self.get(context, sid)
        self.consumers[sid].remove(consumer)

    def consumers_of(self, ref):
        return [c['resource_id'] for c in self.consumers[key_manager.secret_id(ref)]]


class TlsGuest(FakeGuest):
    """The guest client's own step: the container travels base64."""

    def __init__(self, state_dir):
        super().__init__()
        self.engine = TlsEngine(state_dir)
        self.manager = manager.Manager(engine=self.engine, reporter=self.manager.reporter)

    def ssl_apply(self, mode, p12, password=None):
        return self.__getattr__('ssl_apply')(mode=mode, p12=base64.b64encode(p12).decode(),
                                             password=password)


@pytest.fixture
def kms(monkeypatch):
    fake = MemoryKeyManager()
    monkeypatch.setattr(key_manager, 'get_manager', lambda: fake)
    return fake


@pytest.fixture
def guest(monkeypatch, tmp_path):
    CONF.set_override('datastore_manager', 'mariadb')
    fake = TlsGuest(str(tmp_path))
    monkeypatch.setattr(guest_access, 'get_guest', lambda ctx, iid: fake)
    yield fake
    CONF.clear_override('datastore_manager')


@pytest.fixture
def refs(kms):
    a = tls_certs.make_bundle('127.0.0.9', 'alice')
    b = tls_certs.make_bundle('127.0.0.9', 'alice', password=P12_PASSWORD)
    return {'a': kms.store_secret(a['p12_payload']), 'b': kms.store_secret(b['p12_payload']),
            'pw': kms.store_secret(P12_PASSWORD.encode()), 'cert_a': a['cert']}


@pytest.fixture
def inst(app, guest):
    return _instance()


def _url(inst):
    return '/v1.0/t1/instances/%s/ssl' % inst


def test_enable_renew_disable_moves_consumers(app, guest, kms, refs, inst):
    code, body = call(app, 'POST', _url(inst), {'ssl': {'enable': True,
                                                        'container_ref': refs['a']}})
    assert code == 200, body
    assert (body['ssl']['status'], body['ssl']['mode']) == ('on', 'basic')
    assert body['ssl']['restart_required'] is True  # the recording engine says so once
    assert db_api.get_instance(inst).task_id == states.InstanceTask.RESTART_REQUIRED.code
    assert kms.consumers_of(refs['a']) == [inst]
    code, body = call(app, 'GET', _url(inst) + '?include_certificate=true')
    assert (code, body['ssl']['certificate']) == (200, refs['cert_a'])
    assert 'certificate' not in call(app, 'GET', _url(inst))[1]['ssl']
    code, body = call(app, 'POST', _url(inst), {'ssl': {
        'enable': True, 'container_ref': refs['b'], 'password_ref': refs['pw'],
        'mode': 'enforced'}})
    assert (code, body['ssl']['mode']) == (200, 'enforced')
    assert kms.consumers_of(refs['a']) == []
    assert kms.consumers_of(refs['b']) == kms.consumers_of(refs['pw']) == [inst]
    code, body = call(app, 'POST', _url(inst), {'ssl': {'disable': True}})
    assert (code, body['ssl']['status']) == (200, 'off')
    assert kms.consumers_of(refs['b']) == kms.consumers_of(refs['pw']) == []
    row = db_api.get_instance(inst)
    assert (row.ssl_mode, row.ssl_ref) == (None, None)


def test_rollback_restores_mode_refs_and_consumers(app, guest, kms, refs, inst):
    call(app, 'POST', _url(inst), {'ssl': {'enable': True, 'container_ref': refs['a']}})
    call(app, 'POST', _url(inst), {'ssl': {'enable': True, 'container_ref': refs['b'],
                                           'password_ref': refs['pw'], 'mode': 'enforced'}})
    code, body = call(app, 'POST', _url(inst), {'ssl': {'rollback': True}})
    assert (code, body['ssl']['mode']) == (200, 'basic')
    assert call(app, 'GET', _url(inst))[1]['ssl']['mode'] == 'basic'
    assert kms.consumers_of(refs['a']) == [inst] and kms.consumers_of(refs['b']) == []
    assert db_api.get_instance(inst).ssl_ref == refs['a']
    code, body = call(app, 'POST', _url(inst), {'ssl': {'rollback': True}})
    assert code == 400 and 'roll back' in body['badRequest']['message']


@pytest.mark.parametrize('ssl', [
    {'enable': True},                                        # no container
    {'enable': True, 'container_ref': 'not-a-ref'},
    {'enable': True, 'container_ref': ENDPOINT + str(uuid.UUID(int=1))},  # unknown secret
    {'enable': True, 'container_ref': 'B'},                  # needs its password
    {'enable': True, 'container_ref': 'A', 'mode': 'strict'},
    {'enable': True, 'disable': True, 'container_ref': 'A'},
    {'disable': True, 'mode': 'basic'},
    {'rollback': True},                                      # nothing to roll back to
    {},
])
def test_bad_input_is_400_and_changes_nothing(app, guest, kms, refs, inst, ssl):
    body = {k: {'A': refs['a'], 'B': refs['b']}.get(v, v) if k == 'container_ref' else v
            for k, v in ssl.items()}
    code, answer = call(app, 'POST', _url(inst), {'ssl': body})
    assert code == 400, answer
    assert 'badRequest' in answer
    assert call(app, 'GET', _url(inst))[1]['ssl']['status'] == 'off'
    assert kms.consumers_of(refs['a']) == kms.consumers_of(refs['b']) == []
    row = db_api.get_instance(inst)
    assert (row.ssl_mode, row.ssl_ref, row.ssl_previous) == (None, None, None)


def test_replica_and_unready_instances_are_refused(app, guest, kms, refs):
    replica = _instance()
    db_api.update_instance(replica, slave_of_id=_instance())
    code, _ = call(app, 'POST', _url(replica), {'ssl': {'enable': True,
                                                        'container_ref': refs['a']}})
    assert code == 400
    building = _instance(service=states.ServiceStatus.BUILDING)
    assert call(app, 'GET', _url(building))[0] == 422
    assert kms.consumers_of(refs['a']) == []


def test_delete_removes_the_consumers(app, guest, kms, refs, inst):
    call(app, 'POST', _url(inst), {'ssl': {'enable': True, 'container_ref': refs['a']}})
    db_api.set_task(inst, states.InstanceTask.NONE)
    code, _ = call(app, 'DELETE', '/v1.0/t1/instances/%s' % inst)
    assert code == 202
    assert kms.consumers_of(refs['a']) == []


def test_replicas_follow_their_primary(app, monkeypatch, tmp_path, kms, refs):
    primary, replica = _instance(), _instance()
    db_api.update_instance(replica, slave_of_id=primary)
    guests = {iid: TlsGuest(str(tmp_path / iid)) for iid in (primary, replica)}
    monkeypatch.setattr(guest_access, 'get_guest', lambda ctx, iid: guests[iid])
    code, body = call(app, 'POST', _url(primary), {'ssl': {
        'enable': True, 'container_ref': refs['a'], 'mode': 'enforced'}})
    assert code == 200, body
    assert guests[replica].manager.ssl_show(None)['mode'] == 'enforced'
    assert sorted(kms.consumers_of(refs['a'])) == sorted([primary, replica])
    assert db_api.get_instance(replica).ssl_ref == refs['a']
    assert call(app, 'GET', _url(replica))[1]['ssl']['status'] == 'on'
    code, body = call(app, 'POST', _url(primary), {'ssl': {'disable': True}})
    assert code == 200
    assert guests[replica].manager.ssl_show(None)['status'] == 'off'
    assert kms.consumers_of(refs['a']) == []
    # A replica that cannot follow gets a fault; the primary's change stands.
    guests[replica].manager.ssl_rollback(None)   # its own previous state is used up
    code, body = call(app, 'POST', _url(primary), {'ssl': {'rollback': True}})
    assert (code, body['ssl']['mode']) == (200, 'enforced')
    assert 'did not reach this replica' in db_api.get_fault(replica).message
    assert db_api.get_fault(primary) is None


def test_a_new_replica_gets_the_primary_tls(app, tm, kms, refs):  # noqa: F811
    from trove.db import task_requests
    primary = cfg_instance(tm, compute_instance_id='srv-1', hostname='127.0.0.9')
    db_api.update_instance(primary, ssl_mode='enforced', ssl_ref=refs['b'],
                           ssl_password_ref=refs['pw'])
    code, body = call(app, 'POST', '/v1.0/t1/instances', {'instance': {
        'name': 'r', 'replica_of': primary}})
    assert code == 200, body
    cast = [kw for method, kw in tm.calls if method == 'create_replica'][0]
    tls = cast['tls']
    assert (tls['mode'], tls['ssl_ref'], tls['password']) == ('enforced', refs['b'],
                                                              P12_PASSWORD)
    assert base64.b64decode(tls['p12']) == kms.secrets[key_manager.secret_id(refs['b'])]
    replica = cast['instance_id']
    assert kms.consumers_of(refs['b']) == kms.consumers_of(refs['pw']) == [replica]
    assert task_requests.load(replica)[1]['tls']['mode'] == 'enforced'  # for a redo


def test_taskmanager_client_sends_tls_at_1_8(monkeypatch):
    from trove.taskmanager import manager as tm_manager
    from trove.taskmanager import rpcapi as tm_rpcapi
    sent = []

    class Client:
        def prepare(self, version):
            self.version = version
            return self

        def cast(self, context, method, **kwargs):
            sent.append((self.version, 'tls' in kwargs))
    monkeypatch.setattr(tm_rpcapi.rpc, 'get_client', lambda *a, **kw: Client())
    api = tm_rpcapi.TaskManagerAPI('ctx')
    args = dict(instance_id='i', primary_id='p', flavor={}, datastore_manager='mariadb',
                ds_version='10.11', image_id=None, volume_size=1)
    api.create_replica(**args)
    api.create_replica(tls={'mode': 'basic'}, **args)
    assert sent == [('1.6', False), ('1.8', True)]
    assert tm_manager.Manager.target.version == tm_rpcapi.TaskManagerAPI.VERSION == '1.9'
