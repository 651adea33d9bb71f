"""A taskmanager that dies mid-task: the next one redoes the stored request."""
import contextlib

import pytest
from sqlalchemy import select

from trove.common import states
from trove.conf import CONF
from trove.db import api
from trove.db import models
from trove.db import task_requests
from trove.db.session import reader
from trove.taskmanager import manager as tm_manager
from trove.taskmanager import recovery
from trove.taskmanager.flows import create
from tests.unit.taskmanager import test_flows
from tests.unit.taskmanager.test_flows import FLAVOR, Guest

Task = states.InstanceTask
env = test_flows.env  # the fixture: fake driver, scripted guest


def _stored_build(driver, **values):
    payload = dict(flavor=FLAVOR, datastore_manager='mariadb', ds_version='10.11',
                   image_id=None, databases=[{'name': 'shop'}],
                   users=[{'name': 'app', 'password': 'Sekrit-Pa55'}], volume_size=1,
                   backup_id=None, overrides={})
    inst = api.create_instance(
        dict(name='db1', tenant_id='t1', flavor_id='2', volume_size=1, **values),
        also=lambda session, iid: task_requests.save(session, iid, 'create_instance',
                                                     payload))
    return inst.id


def _redo(driver, instance_id):
    recovery.redo(tm_manager.Manager(driver=driver), None, instance_id, Task.BUILDING)
    return api.get_instance(instance_id)


def test_build_lost_before_any_step_is_redone(env):
    iid = _stored_build(env)
    inst = _redo(env, iid)
    assert api.get_task(inst) is Task.NONE
    assert len(env.called('create_server')) == 1
    assert Guest.instances[-1].prepared.users[0]['name'] == 'app'
    assert task_requests.load(iid) is None


def test_build_lost_after_boot_reuses_the_server(env):
    volume = env.create_volume('trove-x', 1)
    server = env.create_server('db1', '2', None, volume.id, {}, None, {})
    iid = _stored_build(env, volume_id=volume.id, compute_instance_id=server.id)
    inst = _redo(env, iid)
    assert api.get_task(inst) is Task.NONE
    assert inst.compute_instance_id == server.id
    assert len(env.called('create_server')) == 1     # only the one above
    assert len(env.called('create_volume')) == 1
    assert Guest.instances[-1].prepared is not None  # prepare was sent again


def test_server_booted_but_not_recorded_is_found_by_metadata(env):
    iid = _stored_build(env)
    server = env.create_server('db1', '2', None, None, {}, None,
                               {'trove_instance_id': iid})
    inst = _redo(env, iid)
    assert inst.compute_instance_id == server.id
    assert len(env.called('create_server')) == 1


def test_redo_gives_up_after_repeated_crashes(env):
    iid = _stored_build(env)
    for _ in range(recovery.MAX_ATTEMPTS):
        task_requests.count_attempt(iid)
    inst = _redo(env, iid)
    assert api.get_task(inst) is Task.BUILDING_ERROR_SERVER
    assert 'giving up' in api.get_fault(iid).message
    assert not env.called('create_server')


def test_build_without_stored_request_fails_at_once(env):
    CONF.set_override('usage_timeout', 900)
    inst = api.create_instance(dict(name='db1', tenant_id='t1', flavor_id='2'))
    tm_manager.Manager(driver=env).recover()
    inst = api.get_instance(inst.id)
    assert api.get_task(inst) is Task.BUILDING_ERROR_SERVER
    assert 'taskmanager restart' in api.get_fault(inst.id).message


def test_stored_payload_keeps_no_password_in_clear(env):
    iid = _stored_build(env)
    with reader() as session:
        row = session.scalars(select(models.TaskRequest)).one()
        assert row.instance_id == iid and 'Sekrit' not in row.payload
    assert task_requests.load(iid)[1]['users'][0]['password'] == 'Sekrit-Pa55'


def test_late_create_run_leaves_the_next_request_alone(env):
    iid = _stored_build(env)
    _redo(env, iid)
    task_requests.record(iid, 'restart', {})
    req = create.CreateRequest(instance_id=iid, flavor=FLAVOR, datastore_manager='mariadb',
                               ds_version='10.11', volume_size=1)
    create.create_instance(None, env, req)        # the old cast, delivered late
    assert task_requests.load(iid)[0] == 'restart'


def test_long_fault_is_kept_whole(db):
    inst = api.create_instance(dict(name='db1', tenant_id='t1', flavor_id='2'))
    text = 'mariadb-install-db failed: ' + 'x' * 2000
    api.save_fault(inst.id, text)
    assert api.get_fault(inst.id).message == text


@pytest.fixture(autouse=True)
def _timeout(monkeypatch):
    # The scripted guest reports through the conductor in this process, which
    # takes the same in-process instance lock the taskmanager holds.
    monkeypatch.setattr(tm_manager, 'instance_lock', lambda _id: contextlib.nullcontext())
    yield
    CONF.clear_override('usage_timeout')


def test_backups_still_new_are_sent_again(env, monkeypatch):
    from trove.db import backups as db_backups
    from trove.db import datastores
    from trove.taskmanager.flows import backup as backup_flow
    sent = []

    class GuestAPI:
        def __init__(self, context, instance_id):
            self.instance_id = instance_id

        def create_backup(self, backup_info):
            sent.append((self.instance_id, backup_info))

    monkeypatch.setattr(backup_flow.guest_rpcapi, 'GuestAPI', GuestAPI)
    version = datastores.get_version(datastores.get_datastore('mariadb').id, '10.11')
    fresh = db_backups.create_backup(dict(name='b', tenant_id='t1', instance_id='i1',
                                          backup_type='full', datastore_version_id=version.id,
                                          storage_driver='local'))
    running = db_backups.create_backup(dict(name='c', tenant_id='t1', instance_id='i2',
                                            backup_type='full',
                                            datastore_version_id=version.id,
                                            storage_driver='local'))
    db_backups.update_backup(running.id, state='BUILDING')
    recovery.resend_new_backups(None)
    [(instance_id, info)] = sent
    assert instance_id == 'i1' and info['id'] == fresh.id
    assert info['datastore'] == 'mariadb' and info['datastore_version'] == '10.11'
