"""Backups API: validation, states, listing, delete recursion, restorePoint."""
import pytest

from trove.api.controllers import backups as backups_ctl
from trove.common import quota, states
from trove.common.states import BackupState
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import datastores

from tests.unit.api.conftest import call, create_body

BASE = '/v1.0/t1/backups'
Task = states.InstanceTask


class TMRecorder:
    def __init__(self):
        self.calls = []

    def create_backup(self, **kwargs):
        self.calls.append(('create_backup', kwargs))

    def delete_backup(self, **kwargs):
        self.calls.append(('delete_backup', kwargs))


@pytest.fixture
def tm(monkeypatch):
    rec = TMRecorder()
    monkeypatch.setattr(backups_ctl, 'get_taskmanager', lambda ctx: rec)
    return rec


def _instance(tenant='t1', active=True):
    version = datastores.resolve('mariadb', '10.11')[1]
    inst = db_api.create_instance(dict(name='i', tenant_id=tenant, flavor_id='1',
                                       volume_size=2, datastore_version_id=version.id))
    if active:
        db_api.set_task(inst.id, Task.NONE)
        db_api.update_instance(inst.id, server_status='ACTIVE')
        db_api.set_service_status(inst.id, states.ServiceStatus.HEALTHY)
    return inst


def _backup(inst, state=BackupState.COMPLETED, parent=None, size=0.5):
    row = db_backups.create_backup(dict(
        name='b', tenant_id=inst.tenant_id, instance_id=inst.id,
        backup_type='incremental' if parent else 'full', parent_id=parent,
        datastore_version_id=inst.datastore_version_id, storage_driver='local'))
    db_backups.update_backup(row.id, state=state, size=size, location='/x/%s' % row.id,
                             checksum='c' * 64)
    return db_backups.get_backup(row.id)


def _post(app, **fields):
    return call(app, 'POST', BASE, {'backup': fields})


def test_create_full_casts_and_shows_new(app, tm):
    inst = _instance()
    status, body = _post(app, name='bk', instance=inst.id, description='d')
    assert status == 202, body
    view = body['backup']
    assert view['status'] == 'NEW' and view['instance_id'] == inst.id
    assert view['parent_id'] is None and view['description'] == 'd'
    assert view['datastore'] == {'type': 'mariadb', 'version': '10.11',
                                 'version_id': inst.datastore_version_id}
    (method, kwargs), = tm.calls
    assert method == 'create_backup' and kwargs['instance_id'] == inst.id
    info = kwargs['backup_info']
    assert info['id'] == view['id'] and info['backup_type'] == 'full'
    assert info['parent'] is None and info['storage_driver'] == 'local'
    # A running backup shows as the instance status (rule 5 of 4.3).
    status, body = call(app, 'GET', '/v1.0/t1/instances/%s' % inst.id)
    assert body['instance']['status'] == 'BACKUP'
    # ...and refuses a second one.
    status, body = _post(app, name='bk2', instance=inst.id)
    assert status == 422 and 'still running' in body['unprocessableEntity']['message']


def test_incremental_uses_last_completed_or_given_parent(app, tm):
    inst = _instance()
    status, body = _post(app, name='first', instance=inst.id, incremental=1)
    assert status == 202 and body['backup']['parent_id'] is None  # nothing to build on
    db_backups.update_backup(body['backup']['id'], state=BackupState.COMPLETED)
    full_id = body['backup']['id']
    status, body = _post(app, name='inc', instance=inst.id, incremental=1)
    assert status == 202 and body['backup']['parent_id'] == full_id
    assert tm.calls[-1][1]['backup_info']['parent']['id'] == full_id
    db_backups.update_backup(body['backup']['id'], state=BackupState.FAILED)
    status, body = _post(app, name='inc2', instance=inst.id, parent_id=full_id)
    assert status == 202 and body['backup']['parent_id'] == full_id


@pytest.mark.parametrize('fields,code', [
    ({'instance': '6f0d2c3a-0000-4000-8000-000000000000'}, 400),   # no name
    ({'name': 'x'}, 400),                                          # no instance
    ({'name': 'x', 'instance': 'not-a-uuid'}, 400),
    ({'name': 'x', 'instance': '6f0d2c3a-0000-4000-8000-000000000000'}, 404),
    ({'name': 'x', 'instance': '6f0d2c3a-0000-4000-8000-000000000000',
      'incremental': 7}, 400),
])
def test_create_validation(app, tm, fields, code):
    status, body = _post(app, **fields)
    assert status == code, body
    assert tm.calls == [] and db_backups.list_backups() == []


def test_create_refused_on_busy_instance_and_bad_parent(app, tm):
    building = _instance(active=False)
    status, body = _post(app, name='x', instance=building.id)
    assert status == 422 and 'not currently available' in body['unprocessableEntity']['message']
    inst = _instance()
    running_parent = _backup(inst, state=BackupState.FAILED)
    status, body = _post(app, name='x', instance=inst.id, parent_id=running_parent.id)
    assert status == 409 and 'not completed' in body['conflict']['message']
    other = _backup(_instance())
    status, body = _post(app, name='x', instance=inst.id, parent_id=other.id)
    assert status == 400
    assert tm.calls == []


def test_quota_exceeded_creates_nothing(app, tm):
    inst = _instance()
    quota.set_limits('t1', {'backups': 0})
    status, body = _post(app, name='x', instance=inst.id)
    assert status == 413, body
    assert tm.calls == [] and db_backups.list_backups() == []


def test_list_show_pagination_and_filters(app, tm):
    inst, other = _instance(), _instance()
    rows = [_backup(inst) for _ in range(3)] + [_backup(other)]
    _backup(_instance(tenant='t2'))
    status, body = call(app, 'GET', BASE)
    assert status == 200 and len(body['backups']) == 4
    updated = [b['updated'] for b in body['backups']]
    assert updated == sorted(updated, reverse=True)
    status, body = call(app, 'GET', BASE + '?instance_id=%s' % other.id)
    assert [b['id'] for b in body['backups']] == [rows[3].id]
    status, body = call(app, 'GET', BASE + '?limit=3')
    assert len(body['backups']) == 3 and 'marker=3' in body['links'][0]['href']
    status, page2 = call(app, 'GET', BASE + '?limit=3&marker=3')
    assert len(page2['backups']) == 1 and 'links' not in page2
    status, body = call(app, 'GET', BASE + '?datastore=mariadb')
    assert len(body['backups']) == 4
    status, body = call(app, 'GET', '/v1.0/t1/instances/%s/backups' % inst.id)
    assert status == 200 and len(body['backups']) == 3
    status, body = call(app, 'GET', BASE + '/%s' % rows[0].id)
    assert status == 200 and body['backup']['status'] == 'COMPLETED'
    # Tenants see where the object is in the store, not the controller's path.
    assert body['backup']['locationRef'] is None          # /x is not the store
    CONF.set_override('local_store_path', '/x', group='backup')
    try:
        body = call(app, 'GET', BASE + '/%s' % rows[0].id)[1]
        assert body['backup']['locationRef'] == 'local:///%s' % rows[0].id
    finally:
        CONF.clear_override('local_store_path', group='backup')
    status, _ = call(app, 'GET', BASE + '/nope')
    assert status == 404
    status, body = call(app, 'GET', BASE + '?all_projects=1')  # noauth: admin
    assert status == 200 and len(body['backups']) == 5
    CONF.set_override('noauth_roles', ['member'])
    try:
        status, _ = call(app, 'GET', BASE + '?all_projects=1')
        assert status == 403
    finally:
        CONF.clear_override('noauth_roles')


def test_delete_counts_children_and_refuses_running(app, tm):
    inst = _instance()
    full = _backup(inst)
    inc = _backup(inst, parent=full.id)
    _backup(inst, state=BackupState.BUILDING, parent=inc.id)
    status, body = call(app, 'DELETE', BASE + '/%s' % full.id)
    assert status == 422 and 'still running' in body['unprocessableEntity']['message']
    assert tm.calls == []
    status, _ = call(app, 'DELETE', BASE + '/%s' % inc.id)
    assert status == 422
    lone = _backup(_instance())
    status, body = call(app, 'DELETE', BASE + '/%s' % lone.id)
    assert status == 202 and tm.calls == [('delete_backup', {'backup_id': lone.id})]


def _backups_in_use(tenant='t1'):
    return {u['resource']: u['in_use'] for u in quota.get_usage(tenant)}['backups']


def test_delete_is_stored_and_a_second_one_changes_nothing(app, tm):
    lone = _backup(_instance())
    before = _backups_in_use()
    status, _ = call(app, 'DELETE', BASE + '/%s' % lone.id)
    assert status == 202
    assert db_backups.get_backup(lone.id).delete_requested is not None
    assert [r.id for r in db_backups.pending_deletes()] == [lone.id]
    assert _backups_in_use() == before - 1
    status, _ = call(app, 'DELETE', BASE + '/%s' % lone.id)
    assert status == 202
    assert _backups_in_use() == before - 1  # given back once
    assert tm.calls == [('delete_backup', {'backup_id': lone.id})]  # cast once


def test_delete_not_cast_withdraws_its_request(app, monkeypatch):
    class Down:
        def delete_backup(self, **kwargs):
            raise RuntimeError('broker down')

    monkeypatch.setattr(backups_ctl, 'get_taskmanager', lambda ctx: Down())
    lone = _backup(_instance())
    before = _backups_in_use()
    status, _ = call(app, 'DELETE', BASE + '/%s' % lone.id)
    assert status >= 500
    assert _backups_in_use() == before
    assert db_backups.get_backup(lone.id).delete_requested is None
    assert db_backups.pending_deletes() == []


def test_restore_point_checks(app, recorder):
    inst = _instance()
    good = _backup(inst, size=0.5)
    status, body = call(app, 'POST', '/v1.0/t1/instances',
                        create_body(restorePoint={'backupRef': good.id}))
    assert status == 200, body
    assert recorder.calls[-1][1]['backup_id'] == good.id
    running = _backup(_instance(), state=BackupState.BUILDING)
    status, body = call(app, 'POST', '/v1.0/t1/instances',
                        create_body(restorePoint={'backupRef': running.id}))
    assert status == 409 and 'not completed' in body['conflict']['message']
    big = _backup(_instance(), size=5.0)
    status, body = call(app, 'POST', '/v1.0/t1/instances',
                        create_body(restorePoint={'backupRef': big.id}))
    assert status == 403 and 'too large' in body['forbidden']['message']
    datastores.datastore_update('postgresql')
    datastores.version_update('postgresql', '16', 'postgresql')
    status, body = call(app, 'POST', '/v1.0/t1/instances', create_body(
        restorePoint={'backupRef': good.id},
        datastore={'type': 'postgresql', 'version': '16'}))
    assert status == 400 and 'does not match' in body['badRequest']['message']
    assert len(recorder.calls) == 1


def test_backup_strategies(app, tm):
    inst = _instance()
    base = '/v1.0/t1/backup_strategies'
    status, body = call(app, 'POST', base, {'backup_strategy': {'swift_container': 'c1'}})
    assert status == 202 and body['backup_strategy']['instance_id'] == ''
    status, body = call(app, 'POST', base, {'backup_strategy': {
        'instance_id': inst.id, 'swift_container': 'c2'}})
    assert status == 202
    status, body = call(app, 'GET', base)
    assert sorted(s['swift_container'] for s in body['backup_strategies']) == ['c1', 'c2']
    status, body = _post(app, name='x', instance=inst.id)
    assert tm.calls[-1][1]['backup_info']['container'] == 'c2'
    status, _ = call(app, 'DELETE', base + '?instance_id=%s' % inst.id)
    assert status == 202
    status, body = call(app, 'GET', base)
    assert [s['swift_container'] for s in body['backup_strategies']] == ['c1']
    status, body = call(app, 'POST', base, {'backup_strategy': {}})
    assert status == 400
