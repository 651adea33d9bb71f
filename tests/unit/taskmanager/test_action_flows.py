"""Restart, resize and configuration flows with the fake driver and a scripted guest."""
import pytest

from trove.common import exception, states
from trove.compute import fake
from trove.db import api as db_api
from trove.db import configurations as cfg_db
from trove.db import datastores
from trove.taskmanager import manager as tm_manager
from trove.taskmanager.flows import configuration, resize
from trove.taskmanager.flows import restart as restart_flow

Task = states.InstanceTask
Status = states.ServiceStatus
OLD = {'id': '2', 'name': 'm1.small', 'ram': 1024, 'vcpus': 1, 'disk': 10}
NEW = {'id': '3', 'name': 'm1.medium', 'ram': 2048, 'vcpus': 2, 'disk': 20}


class Guest:
    """Stands in for GuestAPI: records calls, fails the ones named in ``fail``."""

    calls = []
    fail = {}
    status = 'healthy'

    def __init__(self, context, instance_id):
        self.instance_id = instance_id

    def _do(self, method, **kwargs):
        Guest.calls.append((method, kwargs))
        error = Guest.fail.get(method)
        if error is not None:
            if isinstance(error, list):  # fail only the first N calls
                if error:
                    raise error.pop(0)
                return None
            raise error

    def __getattr__(self, method):
        return lambda **kwargs: self._do(method, **kwargs)

    def get_status(self):
        self._do('get_status')
        return Guest.status


@pytest.fixture
def env(db, monkeypatch):
    Guest.calls, Guest.fail, Guest.status = [], {}, 'healthy'
    for module in (restart_flow, resize, configuration):
        monkeypatch.setattr(module.guest_rpcapi, 'GuestAPI', Guest)
    driver = fake.FakeDriver()
    version = datastores.get_version(datastores.get_datastore('mariadb').id, '10.11')
    cfg_db.load_parameters_file(version.id, cfg_db.rules_path('mariadb'))
    volume = driver.create_volume('v', 1)
    server = driver.create_server('s', '2', None, volume.id, {}, None, {})
    inst = db_api.create_instance(dict(
        name='db1', tenant_id='t1', flavor_id='2', volume_size=1, volume_id=volume.id,
        compute_instance_id=server.id, datastore_version_id=version.id))
    db_api.set_task(inst.id, Task.NONE)
    db_api.set_service_status(inst.id, Status.HEALTHY)
    driver.instance_id, driver.server_id, driver.volume_id = inst.id, server.id, volume.id
    return driver


def _task(iid):
    return db_api.get_task(db_api.get_instance(iid))


def _status(iid):
    return Status.from_code(db_api.get_service_status(iid).status_id)


def _methods():
    return [c[0] for c in Guest.calls]


def test_transition_table_for_actions():
    ok = states.check_task_transition
    assert ok(Task.NONE, Task.REBOOTING) and ok(Task.RESTART_REQUIRED, Task.REBOOTING)
    assert ok(Task.RESTART_REQUIRED, Task.RESIZING)
    assert ok(Task.RESTART_REQUIRED, Task.RESTART_REQUIRED)
    assert ok(Task.REBOOTING, Task.NONE) and ok(Task.RESIZING, Task.NONE)
    assert not ok(Task.REBOOTING, Task.RESIZING)
    assert not ok(Task.BUILDING, Task.REBOOTING)
    assert not ok(Task.RESIZING, Task.REBOOTING)


def test_restart_clears_restart_required(env):
    iid = env.instance_id
    db_api.set_task(iid, Task.RESTART_REQUIRED)
    db_api.set_service_status(iid, Status.RESTART_REQUIRED)
    db_api.set_task(iid, Task.REBOOTING)
    restart_flow.restart(None, iid)
    assert _methods() == ['restart', 'get_status']
    assert _task(iid) is Task.NONE and _status(iid) is Status.HEALTHY
    assert db_api.get_fault(iid) is None


def test_failed_restart_ends_in_none_with_fault(env):
    iid = env.instance_id
    db_api.set_task(iid, Task.REBOOTING)
    Guest.fail = {'restart': exception.GuestTimeout()}
    Guest.status = 'shutdown'
    restart_flow.restart(None, iid)
    assert _task(iid) is Task.NONE and _status(iid) is Status.SHUTDOWN
    assert 'Restart failed: Timeout' in db_api.get_fault(iid).message


def test_resize_flavor_rerenders_config(env):
    iid = env.instance_id
    db_api.set_task(iid, Task.RESIZING)
    resize.resize_flavor(None, env, resize.FlavorResize(iid, OLD, NEW))
    assert _methods() == ['stop_db', 'start_db_with_conf_changes', 'get_status']
    config = Guest.calls[1][1]['config_contents']
    assert 'innodb_buffer_pool_size = 1024M' in config
    assert env.get_server(env.server_id).flavor_id == '3'
    inst = db_api.get_instance(iid)
    assert inst.flavor_id == '3' and _task(iid) is Task.NONE
    assert db_api.get_fault(iid) is None


def test_resize_flavor_failure_reverts(env):
    iid = env.instance_id
    db_api.set_task(iid, Task.RESIZING)
    Guest.fail = {'start_db_with_conf_changes': [exception.EngineError(detail='boom')]}
    resize.resize_flavor(None, env, resize.FlavorResize(iid, OLD, NEW))
    starts = [c[1]['config_contents'] for c in Guest.calls
              if c[0] == 'start_db_with_conf_changes']
    assert 'innodb_buffer_pool_size = 1024M' in starts[0]
    assert 'innodb_buffer_pool_size = 512M' in starts[1]  # the revert
    assert env.get_server(env.server_id).flavor_id == '2'
    assert db_api.get_instance(iid).flavor_id == '2'
    assert _task(iid) is Task.NONE
    assert 'Resize to flavor 3 failed' in db_api.get_fault(iid).message


def test_resize_volume(env):
    iid = env.instance_id
    db_api.set_task(iid, Task.RESIZING)
    resize.resize_volume(None, env, iid, 3)
    assert env.volumes[env.volume_id].size == 3
    assert db_api.get_instance(iid).volume_size == 3 and _task(iid) is Task.NONE


def test_resize_volume_failure_leaves_size(env):
    iid = env.instance_id
    db_api.set_task(iid, Task.RESIZING)
    env.volumes.clear()
    resize.resize_volume(None, env, iid, 3)
    assert db_api.get_instance(iid).volume_size == 1 and _task(iid) is Task.NONE
    assert 'Volume resize to 3 GB failed' in db_api.get_fault(iid).message


def _apply(env, old, new):
    configuration.apply_configuration(None, env, configuration.ConfigurationChange(
        env.instance_id, old, new))


def test_dynamic_change_applies_live_without_restart(env):
    _apply(env, {}, {'max_connections': 77, 'wait_timeout': 600})
    assert Guest.calls == [
        ('update_overrides', {'overrides': {'max_connections': 77, 'wait_timeout': 600},
                              'remove': False}),
        ('apply_overrides', {'overrides': {'max_connections': 77, 'wait_timeout': 600}})]
    assert _task(env.instance_id) is Task.NONE


def test_static_change_requires_restart(env):
    iid = env.instance_id
    _apply(env, {'max_connections': 77}, {'max_connections': 77,
                                          'innodb_buffer_pool_size': 268435456})
    assert _methods() == ['update_overrides']  # nothing dynamic changed
    assert _task(iid) is Task.RESTART_REQUIRED
    assert _status(iid) is Status.RESTART_REQUIRED


def test_detach_restores_template_or_engine_defaults(env):
    iid = env.instance_id
    _apply(env, {'max_connections': 77, 'wait_timeout': 600, 'innodb_log_file_size': 1 << 26},
           {})
    assert Guest.calls[0] == ('update_overrides', {'overrides': {}, 'remove': True})
    # Flavor 2 has 1024 MB: the template's max_connections is 256.
    assert Guest.calls[1] == ('apply_overrides', {'overrides': {
        'max_connections': 256, 'wait_timeout': None}})
    assert _task(iid) is Task.RESTART_REQUIRED


def test_guest_failure_becomes_a_fault(env):
    Guest.fail = {'apply_overrides': exception.EngineError(detail='read only')}
    _apply(env, {}, {'max_connections': 77})
    assert 'Applying the configuration group failed' in db_api.get_fault(
        env.instance_id).message
    assert _task(env.instance_id) is Task.NONE


def test_restart_needed_while_busy_is_recorded(env):
    iid = env.instance_id
    db_api.set_task(iid, Task.RESIZING)
    assert configuration.require_restart(iid) is False
    assert 'needs a restart' in db_api.get_fault(iid).message


def test_taskmanager_restart_ends_interrupted_actions(env):
    iid = env.instance_id
    db_api.set_task(iid, Task.RESIZING)
    tm_manager.Manager(driver=env).recover()
    assert _task(iid) is Task.NONE
    assert 'taskmanager restart' in db_api.get_fault(iid).message
