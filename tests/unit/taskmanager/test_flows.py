"""Create and delete flows with the fake compute driver and a scripted guest."""
import json
import threading

import pytest

from trove.common import exception, states
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


def _build(driver, access=None, manager='mariadb', **kw):
    inst = api.create_instance(dict(name='db1', tenant_id='t1', flavor_id='2', volume_size=1,
                                    access=json.dumps(access) if access else None))
    req = create.CreateRequest(instance_id=inst.id, flavor=FLAVOR,
                               datastore_manager=manager, ds_version='10.11',
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


def test_guest_fault_stored_after_its_status_still_ends_the_build(env):
    # The conductor applies the two casts on different threads: the status
    # may land first.  The build waits for the fault instead of failing with
    # the bare status (and replacing the guest's fault with it).
    def fail(instance_id):
        heartbeat('failed to spawn')(instance_id)
        threading.Timer(0.5, conductor.Manager().notify_exc_info,
                        args=(None, instance_id, 'Prepare failed: no disk')).start()
    Guest.reply = fail
    inst = _build(env)
    assert api.get_task(inst) == Task.BUILDING_ERROR_SERVER
    assert api.get_fault(inst.id).message == 'Prepare failed: no disk'


def test_guest_failure_without_a_fault_ends_with_its_status(env, monkeypatch):
    monkeypatch.setattr(create, 'FAULT_WAIT', 0.3)
    Guest.reply = heartbeat('failed to spawn')
    inst = _build(env)
    assert api.get_task(inst) == Task.BUILDING_ERROR_SERVER
    assert api.get_fault(inst.id).message == "Guest reported status 'failed to spawn'"


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


# -- access ----------------------------------------------------------------------

def _methods(driver):
    return [name for name, _ in driver.calls]


def test_build_opens_the_port_to_everyone_by_default(env):
    inst = _build(env)
    assert api.get_task(inst) == Task.NONE
    assert env.called('apply_access') == [{
        'server_id': inst.compute_instance_id, 'instance_id': inst.id,
        'ports': [3306], 'cidrs': ['0.0.0.0/0']}]
    # Once the server exists, and before the guest is prepared.
    assert _methods(env).index('create_server') < _methods(env).index('apply_access')
    assert Guest.instances[0].prepared is not None


@pytest.mark.parametrize('manager,port', [('postgresql', 5432), ('redis', 6379),
                                          ('mysql', 3307), ('mariadb', 3307)])
def test_build_applies_allowed_cidrs_on_the_engine_port(env, manager, port):
    CONF.set_override('port', 3307, group='mariadb')
    try:
        inst = _build(env, manager=manager,
                      access={'is_public': True, 'allowed_cidrs': ['10.0.0.0/24', '::/0']})
    finally:
        CONF.clear_override('port', group='mariadb')
    [call] = env.called('apply_access')
    assert (call['ports'], call['cidrs']) == ([port], ['10.0.0.0/24', '::/0'])
    assert api.get_task(inst) == Task.NONE


def test_access_failure_ends_in_sec_group_error(env):
    env.failures['apply_access'] = exception.ComputeError(detail='security group quota')
    inst = _build(env)
    assert api.get_task(inst) == Task.BUILDING_ERROR_SEC_GROUP
    message = api.get_fault(inst.id).message
    assert message.startswith('Security group setup failed: ')
    assert 'security group quota' in message
    # prepare was already queued for the guest; the build still ends here.
    assert Guest.instances[0].prepared is not None
    # An instance in this error can be deleted.
    assert api.set_task(inst.id, Task.DELETING)


def test_delete_releases_access_after_the_servers(env):
    inst = _build(env)
    api.set_task(inst.id, Task.DELETING)
    delete.delete_instance(None, env, inst.id)
    assert env.called('release_access') == [{'instance_id': inst.id}]
    assert _methods(env).index('delete_server') < _methods(env).index('release_access')


def test_release_failure_is_collected_not_fatal(env):
    inst = _build(env)
    env.failures['release_access'] = RuntimeError('security group in use')
    api.set_task(inst.id, Task.DELETING)
    delete.delete_instance(None, env, inst.id)
    assert env.servers == {} and env.volumes == {}  # the rest went on
    assert api.get_fault(inst.id).message == (
        'Delete incomplete: access rules: security group in use')
    env.failures.clear()
    delete.delete_instance(None, env, inst.id)
    assert api.list_instances('t1') == []


def test_failed_build_keeps_the_console_output_in_the_fault(env, monkeypatch):
    def fail(instance_id):
        conductor.Manager().notify_exc_info(None, instance_id, 'Prepare failed: ' + 'e' * 900)
        heartbeat('failed to spawn')(instance_id)
    Guest.reply = fail
    monkeypatch.setattr(env, 'console_output', lambda server_id, length=200:
                        'mariadb-install-db: cannot create /data: No space left',
                        raising=False)
    inst = _build(env)
    fault = api.get_fault(inst.id)
    assert fault.message == 'Prepare failed: ' + 'e' * 900       # whole, not cut at 255
    assert 'No space left' in fault.details


def test_prepare_is_sent_again_to_a_guest_that_lost_it(env):
    """An agent restarted mid-prepare: the repeated prepare finishes the build."""
    sent = []

    def lost_first(instance_id):
        sent.append(instance_id)
        if len(sent) > 1:
            heartbeat('healthy')(instance_id)
    Guest.reply = lost_first
    CONF.set_override('prepare_resend_interval', 1)
    CONF.set_override('usage_timeout', 10)
    try:
        inst = _build(env)
    finally:
        CONF.clear_override('prepare_resend_interval')
    assert api.get_task(inst) == Task.NONE
    assert len(sent) >= 2
