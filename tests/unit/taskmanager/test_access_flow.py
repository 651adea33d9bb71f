"""The ``update_access`` cast: stored access applied to a running instance."""
import json

import pytest

from trove.common import exception, states
from trove.compute import fake
from trove.db import api as db_api
from trove.db import datastores
from trove.taskmanager import manager as tm_manager
from trove.taskmanager import rpcapi
from trove.taskmanager.flows import access

Task = states.InstanceTask
Status = states.ServiceStatus


@pytest.fixture
def env(db):
    driver = fake.FakeDriver()
    version = datastores.get_version(datastores.get_datastore('mariadb').id, '10.11')
    server = driver.create_server('s', '2', None, None, {}, None, {})
    inst = db_api.create_instance(dict(
        name='db1', tenant_id='t1', flavor_id='2', compute_instance_id=server.id,
        datastore_version_id=version.id,
        access=json.dumps({'is_public': False, 'allowed_cidrs': ['10.0.0.0/24']})))
    db_api.set_task(inst.id, Task.NONE)
    db_api.set_service_status(inst.id, Status.HEALTHY)
    driver.instance_id, driver.server_id = inst.id, server.id
    return driver


def test_update_access_applies_the_stored_access(env):
    tm_manager.Manager(driver=env).update_access(None, env.instance_id)
    assert env.called('apply_access') == [{
        'server_id': env.server_id, 'instance_id': env.instance_id, 'ports': [3306],
        'cidrs': ['10.0.0.0/24']}]
    assert db_api.get_fault(env.instance_id) is None


def test_access_without_cidrs_means_everyone(env):
    db_api.update_instance(env.instance_id, access=json.dumps({'is_public': True}))
    access.update_access(None, env, env.instance_id)
    assert env.called('apply_access')[0]['cidrs'] == ['0.0.0.0/0']
    db_api.update_instance(env.instance_id, access=None)
    access.update_access(None, env, env.instance_id)
    assert env.called('apply_access')[1]['cidrs'] == ['0.0.0.0/0']


def test_failure_is_the_fault_and_the_instance_stays_usable(env):
    env.failures['apply_access'] = exception.ComputeError(detail='neutron is down')
    access.update_access(None, env, env.instance_id)
    inst = db_api.get_instance(env.instance_id)
    assert db_api.get_task(inst) == Task.NONE
    message = db_api.get_fault(env.instance_id).message
    assert message.startswith('Access update failed: ') and 'neutron is down' in message


def test_instance_without_server_or_gone_is_skipped(env):
    db_api.update_instance(env.instance_id, compute_instance_id=None)
    access.update_access(None, env, env.instance_id)
    access.update_access(None, env, 'no-such-instance')
    assert env.called('apply_access') == []
    assert db_api.get_fault(env.instance_id) is None


def test_unknown_manager_has_no_port():
    with pytest.raises(exception.ComputeError, match="'cassandra'"):
        access.datastore_port('cassandra')


def test_rpc_client_casts_update_access_at_1_4(monkeypatch):
    sent = []

    class Client:
        def prepare(self, version):
            self.version = version
            return self

        def cast(self, context, method, **kwargs):
            sent.append((self.version, method, kwargs))
    monkeypatch.setattr(rpcapi.rpc, 'get_client', lambda *a, **kw: Client())
    rpcapi.TaskManagerAPI('ctx').update_access(instance_id='i-1')
    assert sent == [('1.4', 'update_access', {'instance_id': 'i-1'})]
    # The server must accept what the client sends.
    assert tm_manager.Manager.target.version == rpcapi.TaskManagerAPI.VERSION


def test_taskmanager_restart_reapplies_stored_access(env):
    import threading
    other = db_api.create_instance(dict(
        name='db2', tenant_id='t1', flavor_id='2', compute_instance_id=env.server_id,
        datastore_version_id=db_api.get_instance(env.instance_id).datastore_version_id))
    db_api.set_task(other.id, Task.NONE)  # no stored access: nothing to replay
    tm_manager.Manager(driver=env).recover()
    # On a busy host the thread may be done already when recover() returns.
    for thread in [t for t in threading.enumerate() if t.name == 'recover-access']:
        thread.join(10)
    assert env.called('apply_access') == [{
        'server_id': env.server_id, 'instance_id': env.instance_id, 'ports': [3306],
        'cidrs': ['10.0.0.0/24']}]


def test_restart_replays_nothing_on_a_driver_without_filtering(env):
    # env holds an instance with stored access; the local driver has no
    # rules to apply, so no instance is even locked.
    from trove.compute import local
    driver = local.LocalDriver(base_dir='/nonexistent-trove-test')
    access.reapply_all(None, driver, lambda _id: pytest.fail('nothing to re-apply'))
