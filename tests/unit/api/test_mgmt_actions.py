"""Admin instance actions, reset_status and backups, and create --configuration."""
import pytest

from trove.api.controllers import guest_access, instances
from trove.common import states
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import configurations as cfg_db
from trove.db import datastores

from tests.unit.api.conftest import call
from tests.unit.api.test_configurations_api import TaskManager, _group, _instance

Task = states.InstanceTask
Status = states.ServiceStatus
T = '/v1.0/t1'


class Guest:
    calls = []

    def __init__(self, context, instance_id):
        self.instance_id = instance_id

    def stop_db(self):
        Guest.calls.append(('stop_db', self.instance_id))


@pytest.fixture
def tm(app, monkeypatch):
    rec = TaskManager()
    monkeypatch.setattr(instances, 'get_taskmanager', lambda ctx: rec)
    Guest.calls = []
    monkeypatch.setattr(guest_access, 'get_guest', Guest)
    version = datastores.get_version(datastores.get_datastore('mariadb').id, '10.11')
    cfg_db.load_parameters_file(version.id, cfg_db.rules_path('mariadb'))
    rec.version_id = version.id
    return rec


def _mgmt(app, iid, body):
    return call(app, 'POST', T + '/mgmt/instances/%s/action' % iid, body)


def _task(iid):
    return db_api.get_task(db_api.get_instance(iid))


def _backup(iid, state=states.BackupState.BUILDING):
    inst = db_api.get_instance(iid)
    row = db_backups.create_backup(dict(
        name='b', tenant_id=inst.tenant_id, instance_id=iid, backup_type='full',
        datastore_version_id=inst.datastore_version_id, storage_driver='local'))
    db_backups.update_backup(row.id, state=state)
    return row.id


# -- mgmt actions ----------------------------------------------------------------

def test_stop_calls_the_guest(app, tm):
    iid = _instance(tm)
    status, body = _mgmt(app, iid, {'stop': {}})
    assert (status, body) == (202, None)
    assert Guest.calls == [('stop_db', iid)]
    assert _task(iid) is Task.NONE and tm.calls == []


def test_reboot_claims_and_casts(app, tm):
    iid = _instance(tm, status=Status.SHUTDOWN)  # a stopped database may be rebooted
    status, body = _mgmt(app, iid, {'reboot': {}})
    assert status == 422 and 'no server' in body['unprocessableEntity']['message']
    db_api.update_instance(iid, compute_instance_id='srv-1')
    status, _ = _mgmt(app, iid, {'reboot': {}})
    assert status == 202
    assert tm.calls == [('reboot', {'instance_id': iid})]
    assert _task(iid) is Task.REBOOTING
    status, body = _mgmt(app, iid, {'reboot': {}})
    assert status == 422 and 'REBOOTING' in body['unprocessableEntity']['message']
    assert len(tm.calls) == 1


def test_reboot_cast_failure_restores_the_task(app, tm):
    iid = _instance(tm, compute_instance_id='srv-1')
    tm.fail = True
    assert _mgmt(app, iid, {'reboot': {}})[0] == 503
    assert _task(iid) is Task.NONE
    assert db_api.get_service_status(iid).status_id == Status.HEALTHY.code


def test_reboot_refused_while_a_backup_runs(app, tm):
    iid = _instance(tm, compute_instance_id='srv-1')
    _backup(iid)
    status, body = _mgmt(app, iid, {'reboot': {}})
    assert status == 422 and 'backup' in body['unprocessableEntity']['message']
    assert _task(iid) is Task.NONE and tm.calls == []


def test_reset_task_status_fails_running_backups(app, tm):
    iid = _instance(tm, task=Task.REBOOTING)
    done = _backup(iid, states.BackupState.COMPLETED)
    running = _backup(iid)
    assert _mgmt(app, iid, {'reset-task-status': {}})[0] == 202
    assert _task(iid) is Task.NONE
    assert db_backups.get_backup(running).state == 'FAILED'
    assert db_backups.get_backup(done).state == 'COMPLETED'


@pytest.mark.parametrize('body, code', [
    ({}, 400), ({'stop': {}, 'reboot': {}}, 400), ({'restart': {}}, 400),
    ({'migrate': {'host': 'h'}}, 501), ({'rebuild': {}}, 400), ({'rebuild': {'image_id': ''}}, 400),
    ({'rebuild': {'image_id': 'x'}}, 422),  # the instance has no server
])
def test_bad_action_bodies(app, tm, body, code):
    iid = _instance(tm)
    assert _mgmt(app, iid, body)[0] == code
    assert tm.calls == [] and Guest.calls == []


def test_actions_need_an_idle_instance_and_an_admin(app, tm):
    iid = _instance(tm, task=Task.RESIZING)
    assert _mgmt(app, iid, {'stop': {}})[0] == 422
    assert _mgmt(app, 'nope', {'stop': {}})[0] == 404
    CONF.set_override('noauth_roles', ['member'])
    try:
        assert _mgmt(app, iid, {'reset-task-status': {}})[0] == 403
    finally:
        CONF.clear_override('noauth_roles')
    assert _task(iid) is Task.RESIZING and Guest.calls == []


# -- reset_status and backups on the instance actions ------------------------------

def test_reset_status_fails_running_backups(app, tm):
    iid = _instance(tm, task=Task.REBOOTING)
    running = _backup(iid, states.BackupState.NEW)
    status, _ = call(app, 'POST', T + '/instances/%s/action' % iid, {'reset_status': {}})
    assert status == 202
    assert db_backups.get_backup(running).state == 'FAILED'
    assert db_backups.running_backup(iid) is None


@pytest.mark.parametrize('body', [{'restart': {}}, {'resize': {'flavorRef': 'small'}},
                                  {'resize': {'volume': {'size': 2}}}])
def test_restart_and_resize_refused_while_a_backup_runs(app, tm, body):
    iid = _instance(tm)
    _backup(iid, states.BackupState.SAVING)
    status, resp = call(app, 'POST', T + '/instances/%s/action' % iid, body)
    assert status == 422 and 'backup' in resp['unprocessableEntity']['message']
    assert _task(iid) is Task.NONE and tm.calls == []


# -- create with a configuration group ------------------------------------------------

def _create(app, config_id, version='10.11', tenant='t1'):
    return call(app, 'POST', '/v1.0/%s/instances' % tenant, {'instance': {
        'name': 'c1', 'flavorRef': '1', 'volume': {'size': 1},
        'configuration': config_id,
        'datastore': {'type': 'mariadb', 'version': version}}})


def test_create_with_configuration_sends_overrides(app, tm):
    group = _group(app, {'max_connections': 77, 'wait_timeout': 600})
    status, body = _create(app, group['id'])
    assert status == 200, body
    inst = body['instance']
    assert inst['configuration']['id'] == group['id']
    assert db_api.get_instance(inst['id']).configuration_id == group['id']
    (method, kwargs), = tm.calls
    assert method == 'create_instance'
    assert kwargs['overrides'] == {'max_connections': 77, 'wait_timeout': 600}
    status, body = call(app, 'GET', T + '/configurations/%s' % group['id'])
    assert body['configuration']['instance_count'] == 1


def test_create_with_a_foreign_or_unknown_group_is_refused(app, tm):
    group = _group(app)
    other = datastores.version_update('mariadb', '10.6', 'mariadb', image_id='', packages='',
                                      active=True)
    del other
    for config_id, version, tenant, words in (
            (group['id'], '10.6', 't1', 'another datastore version'),
            (group['id'], '10.11', 't2', 'not found'),
            ('00000000-0000-0000-0000-000000000000', '10.11', 't1', 'not found')):
        status, body = _create(app, config_id, version, tenant)
        assert status == 400, body
        assert words in body['badRequest']['message']
    assert tm.calls == []
    assert call(app, 'GET', T + '/instances')[1] == {'instances': []}


# -- root history ------------------------------------------------------------------
def test_root_history_never_then_who_and_when(app, tm):
    from trove.db import root_history
    iid = _instance(tm)
    code, body = call(app, 'GET', T + '/mgmt/instances/%s/root' % iid)
    assert code == 200
    assert body == {'root_history': {'id': iid, 'enabled': 'Never', 'user': 'Nobody'}}
    root_history.record(iid, 'alice')
    code, body = call(app, 'GET', T + '/mgmt/instances/%s/root' % iid)
    history = body['root_history']
    assert code == 200 and history['id'] == iid and history['user'] == 'alice'
    import datetime
    when = datetime.datetime.strptime(history['enabled'], '%Y-%m-%dT%H:%M:%S')
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    assert abs((now - when).total_seconds()) < 60
    code, body = call(app, 'GET', T + '/mgmt/instances/no-such/root')
    assert code == 404 and 'itemNotFound' in body


def test_root_history_is_admin_only(app, tm):
    iid = _instance(tm)
    CONF.set_override('noauth_roles', ['member'])
    try:
        code, body = call(app, 'GET', T + '/mgmt/instances/%s/root' % iid)
    finally:
        CONF.clear_override('noauth_roles')
    assert code == 403 and 'forbidden' in body
