"""Upgrade / rebuild flow with the fake driver and a scripted guest."""
import threading

import pytest

from trove.common import states
from trove.compute import fake
from trove.conductor import manager as conductor
from trove.conf import CONF
from trove.db import api
from trove.db import datastores
from trove.db import task_requests
from trove.taskmanager.flows import rebuild

Task = states.InstanceTask


class Guest:
    calls = []
    comes_back = True

    def __init__(self, context, instance_id):
        self.instance_id = instance_id

    def stop_db(self):
        Guest.calls.append('stop_db')

    def create_queue(self):
        Guest.calls.append('create_queue')

    def prepare(self, request):
        Guest.calls.append(('prepare', request.ds_version, request.databases))
        if Guest.comes_back:
            threading.Timer(0.2, lambda: conductor.Manager().heartbeat(
                None, self.instance_id, {'service_status': 'healthy'}, sent=2.0)).start()


@pytest.fixture
def env(db, monkeypatch):
    Guest.calls, Guest.comes_back = [], True
    monkeypatch.setattr(rebuild.guest_rpcapi, 'GuestAPI', Guest)
    CONF.set_override('usage_timeout', 3)
    CONF.set_override('usage_sleep_time', 0.1)
    driver = fake.FakeDriver()
    ds = datastores.get_datastore('mariadb')
    old = datastores.get_version(ds.id, '10.11')
    datastores.version_update('mariadb', '10.11-next', 'mariadb', image_id='img-next',
                              packages='', active=True)
    new = datastores.get_version(ds.id, '10.11-next')
    volume = driver.create_volume('v', 1)
    server = driver.create_server('s', '2', None, volume.id, {}, None, {})
    inst = api.create_instance(dict(name='db1', tenant_id='t1', flavor_id='2', volume_size=1,
                                    volume_id=volume.id, compute_instance_id=server.id,
                                    datastore_version_id=old.id))
    api.set_task(inst.id, Task.NONE)
    api.set_task(inst.id, Task.UPGRADING)
    task_requests.record(inst.id, 'upgrade', {})
    yield driver, inst.id, server.id, old, new
    CONF.clear_override('usage_timeout')
    CONF.clear_override('usage_sleep_time')


def _run(driver, iid, new):
    rebuild.rebuild(None, driver, rebuild.RebuildRequest(
        instance_id=iid, image_id='img-next', datastore_version_id=new.id, action='upgrade'))
    return api.get_instance(iid)


def test_upgrade_rebuilds_prepares_and_switches_the_version(env):
    driver, iid, server_id, _old, new = env
    inst = _run(driver, iid, new)
    assert api.get_task(inst) is Task.NONE
    assert inst.datastore_version_id == new.id
    assert driver.called('rebuild_server') == [{'server_id': server_id,
                                                'image_id': 'img-next'}]
    guest_info = driver.files[server_id]['/etc/trove/conf.d/guest_info.conf']
    assert 'datastore_version = 10.11-next' in guest_info
    assert Guest.calls[0] == 'stop_db'
    assert ('prepare', '10.11-next', []) in Guest.calls     # no databases re-created
    assert task_requests.load(iid) is None


def test_guest_that_never_comes_back_ends_in_upgrading_error(env):
    driver, iid, _server_id, old, new = env
    Guest.comes_back = False
    inst = _run(driver, iid, new)
    assert api.get_task(inst) is Task.UPGRADING_ERROR
    assert inst.datastore_version_id == old.id
    assert 'did not report a running database' in api.get_fault(iid).message


def test_driver_failure_is_a_readable_fault(env, monkeypatch):
    driver, iid, _server_id, old, new = env
    driver.failures['rebuild_server'] = RuntimeError('image img-next not found')
    inst = _run(driver, iid, new)
    assert api.get_task(inst) is Task.UPGRADING_ERROR
    assert 'image img-next not found' in api.get_fault(iid).message


def test_unknown_image_is_refused_before_the_engine_stops(env, monkeypatch):
    driver, iid, _server_id, old, new = env
    monkeypatch.setattr(driver, 'check_image', lambda image_id: (_ for _ in ()).throw(
        RuntimeError('image img-next not found')))
    inst = _run(driver, iid, new)
    assert api.get_task(inst) is Task.NONE and inst.datastore_version_id == old.id
    assert 'Upgrade refused: image img-next not found' in api.get_fault(iid).message
    assert Guest.calls == [] and not driver.called('rebuild_server')


def test_a_delete_does_not_wait_behind_a_rebuild_waiting_for_the_guest(env):
    import time
    driver, iid, _server_id, old, new = env
    Guest.comes_back = False
    CONF.set_override('usage_timeout', 60)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (_run(driver, iid, new), done.set()), daemon=True)
    thread.start()
    time.sleep(0.5)
    assert not done.is_set()     # waiting for the rebuilt guest's report
    api.set_task(iid, Task.DELETING)   # what the API's delete does
    started = time.monotonic()
    assert done.wait(5)
    assert time.monotonic() - started < 2
    inst = api.get_instance(iid)
    assert api.get_task(inst) is Task.DELETING
    assert inst.datastore_version_id == old.id
    assert api.get_fault(iid) is None
    assert task_requests.load(iid) is None
