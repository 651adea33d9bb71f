"""Create and delete flows with the fake compute driver and a scripted guest."""
import threading

import pytest

from trove.common import states
from trove.compute import fake
from trove.conductor import manager as conductor
from trove.conf import CONF
from trove.db import api
from trove.taskmanager.flows import create, delete

Task = states.InstanceTask
Status = states.ServiceStatus
FLAVOR = {'id': '2', 'name': 'm1.small', 'ram': 1024, 'vcpus': 1, 'disk': 10}


class Guest:
    """Stands in for GuestAPI; ``reply`` is what the guest does on prepare."""

    instances = []

    def __init__(self, context, instance_id):
        self.instance_id = instance_id
        self.prepared = None
        Guest.instances.append(self)

    def create_queue(self):
        self.queue_created = True

    def prepare(self, request):
        self.prepared = request
        reply = Guest.reply
        if reply:
            # The real guest answers asynchronously through the conductor.
            threading.Timer(0.1, reply, args=(self.instance_id,)).start()


def heartbeat(description):
    def send(instance_id):
        conductor.Manager().heartbeat(None, instance_id,
                                      {'service_status': description}, sent=1.0)
    return send


@pytest.fixture
def env(db, monkeypatch):
    Guest.instances = []
    Guest.reply = heartbeat('healthy')
    monkeypatch.setattr(create.guest_rpcapi, 'GuestAPI', Guest)
    monkeypatch.setattr(delete.guest_rpcapi, 'GuestAPI', Guest)
    monkeypatch.setattr(delete, '_delete_guest_queues', lambda instance_id: None)
    CONF.set_override('usage_timeout', 5)
    yield fake.FakeDriver()
    CONF.clear_override('usage_timeout')


def _build(driver, **kw):
    inst = api.create_instance(dict(name='db1', tenant_id='t1', flavor_id='2', volume_size=1))
    req = create.CreateRequest(instance_id=inst.id, flavor=FLAVOR,
                               datastore_manager='mariadb', ds_version='10.11',
                               databases=[{'name': 'shop'}], volume_size=1, **kw)
    create.create_instance(None, driver, req)
    return api.get_instance(inst.id)


def test_build_ends_active(env):
    inst = _build(env)
    assert api.get_task(inst) == Task.NONE
    assert inst.server_status == 'ACTIVE' and inst.compute_instance_id
    guest = Guest.instances[0]
    assert guest.queue_created
    assert guest.prepared.memory_mb == 1024
    assert guest.prepared.databases == [{'name': 'shop'}]
    assert 'innodb_buffer_pool_size' in guest.prepared.config_contents
    [files] = env.files.values()
    assert 'guest_id = %s' % inst.id in files['/etc/trove/conf.d/guest_info.conf']


def test_silent_guest_times_out(env):
    Guest.reply = None
    CONF.set_override('usage_timeout', 1)
    inst = _build(env)
    assert api.get_task(inst) == Task.BUILDING_ERROR_TIMEOUT_GA
    assert 'did not report within 1 seconds' in api.get_fault(inst.id).message
    status = api.get_service_status(inst.id)
    assert status.status_id == Status.FAILED_TIMEOUT_GUESTAGENT.code


def test_guest_failure_ends_in_error_with_its_message(env):
    def fail(instance_id):
        conductor.Manager().notify_exc_info(None, instance_id, 'Prepare failed: no disk')
        heartbeat('failed to spawn')(instance_id)
    Guest.reply = fail
    inst = _build(env)
    assert api.get_task(inst) == Task.BUILDING_ERROR_SERVER
    assert api.get_fault(inst.id).message == 'Prepare failed: no disk'


def test_server_failure(env):
    env.failures['create_server'] = RuntimeError('no capacity')
    inst = _build(env)
    assert api.get_task(inst) == Task.BUILDING_ERROR_SERVER
    assert 'no capacity' in api.get_fault(inst.id).message


def test_volume_failure(env):
    env.failures['create_volume'] = RuntimeError('quota')
    inst = _build(env)
    assert api.get_task(inst) == Task.BUILDING_ERROR_VOLUME
    assert env.called('create_server') == []


def test_delete_during_build_stops_waiting(env):
    Guest.reply = None
    inst = api.create_instance(dict(name='db1', tenant_id='t1', flavor_id='2'))
    req = create.CreateRequest(instance_id=inst.id, flavor=FLAVOR,
                               datastore_manager='mariadb', ds_version='10.11')
    worker = threading.Thread(target=create.create_instance, args=(None, env, req))
    worker.start()
    assert api.set_task(inst.id, Task.DELETING)
    worker.join(3)
    assert not worker.is_alive()
    assert api.get_task(api.get_instance(inst.id)) == Task.DELETING


def test_delete_removes_server_volume_and_records(env):
    inst = _build(env)
    api.set_task(inst.id, Task.DELETING)
    delete.delete_instance(None, env, inst.id)
    assert env.servers == {} and env.volumes == {}
    assert api.list_instances('t1') == []


def test_delete_finds_unrecorded_server(env):
    inst = api.create_instance(dict(name='db1', tenant_id='t1', flavor_id='2'))
    env.create_server(name='db1', flavor_id='2', image_id=None, volume_id=None, files={},
                      userdata=None, metadata={'trove_instance_id': inst.id})
    api.set_task(inst.id, Task.DELETING)
    delete.delete_instance(None, env, inst.id)
    assert env.servers == {}


def test_delete_failure_keeps_record_with_fault(env):
    inst = _build(env)
    env.failures['delete_server'] = RuntimeError('stuck')
    api.set_task(inst.id, Task.DELETING)
    delete.delete_instance(None, env, inst.id)
    assert 'stuck' in api.get_fault(inst.id).message
    env.failures.clear()
    delete.delete_instance(None, env, inst.id)
    assert api.list_instances('t1') == []
