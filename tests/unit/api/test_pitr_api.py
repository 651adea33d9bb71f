"""Point-in-time recovery in the API: pitr on create and update, the window
in show, restorePoint with restoreTime; bad input is a 400 that changes nothing."""
import datetime

import pytest

from trove.backup import pitr
from trove.common import states
from trove.common.states import BackupState
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import datastores
from trove.db import models
from trove.db import pitr as db_pitr
from trove.db.session import writer

from tests.unit.api.conftest import call, create_body
from tests.unit.api.test_configurations_api import TaskManager
from trove.api.controllers import instances

T = '/v1.0/t1'
PG = {'type': 'postgresql', 'version': '16'}
Task = states.InstanceTask
NOW = models.utcnow()


@pytest.fixture
def tm(app, monkeypatch):
    rec = TaskManager()
    monkeypatch.setattr(instances, 'get_taskmanager', lambda ctx: rec)
    for name, version in (('postgresql', '16'), ('redis', '7.0')):
        datastores.datastore_update(name)
        datastores.version_update(name, version, name)
    return rec


def _instance(manager='postgresql', version='16', task=Task.NONE, **values):
    version_row = datastores.resolve(manager, version)[1]
    inst = db_api.create_instance(dict(name='i', tenant_id='t1', flavor_id='1',
                                       volume_size=2, datastore_version_id=version_row.id,
                                       **values))
    db_api.set_task(inst.id, Task.NONE)
    if task is not Task.NONE:
        db_api.set_task(inst.id, task)
    db_api.update_instance(inst.id, server_status='ACTIVE')
    db_api.set_service_status(inst.id, states.ServiceStatus.HEALTHY)
    return inst


def _show(app, iid):
    return call(app, 'GET', T + '/instances/%s' % iid)[1]['instance']


def _count():
    return len(db_api.list_instances('t1', 1000))


def _pg_body(**extra):
    return create_body(datastore=PG, **extra)


def test_create_with_pitr_records_it_and_show_has_the_window(app, tm):
    status, body = call(app, 'POST', T + '/instances', _pg_body(pitr={'enabled': True}))
    assert status == 200, body
    iid = body['instance']['id']
    row = db_pitr.get(iid)
    assert row.enabled and row.prefix.startswith('archive/%s/' % iid) and row.since is None
    assert _show(app, iid)['pitr'] == {'enabled': True, 'earliest_restorable_time': None,
                                       'latest_restorable_time': None}
    status, body = call(app, 'POST', T + '/instances', _pg_body())
    assert _show(app, body['instance']['id'])['pitr']['enabled'] is False


@pytest.mark.parametrize('value', [{'enabled': 'yes'}, {}, {'enabled': True, 'x': 1}, True])
def test_bad_pitr_values_are_400(app, tm, value):
    before = _count()
    status, body = call(app, 'POST', T + '/instances', _pg_body(pitr=value))
    assert status == 400 and body['badRequest']['code'] == 400, body
    assert _count() == before


def test_redis_and_replicas_refuse_pitr(app, tm):
    before = _count()
    status, body = call(app, 'POST', T + '/instances', create_body(
        datastore={'type': 'redis', 'version': '7.0'}, databases=[], users=[],
        pitr={'enabled': True}))
    assert status == 400 and 'not supported for the redis' in body['badRequest']['message']
    primary = _instance()
    status, body = call(app, 'POST', T + '/instances', {'instance': {
        'name': 'r', 'replica_of': primary.id, 'pitr': {'enabled': True}}})
    assert status == 400 and 'not a replica' in body['badRequest']['message']
    assert _count() == before + 1 and tm.calls == []


def test_update_turns_it_on_and_off(app, tm):
    inst = _instance()
    put = lambda iid, value: call(app, 'PUT', T + '/instances/%s' % iid,  # noqa: E731
                                  {'instance': {'pitr': value}})
    assert put(inst.id, {'enabled': True})[0] == 202
    assert tm.calls == [('apply_pitr', {'instance_id': inst.id})]
    prefix = db_pitr.get(inst.id).prefix
    assert put(inst.id, {'enabled': True})[0] == 202
    assert db_pitr.get(inst.id).prefix == prefix     # on again: same archive
    db_pitr.mark_started(inst.id, NOW)
    assert put(inst.id, {'enabled': False})[0] == 202
    db_pitr.mark_stopped(inst.id)
    row = db_pitr.get(inst.id)
    assert not row.enabled and row.since is None and len(tm.calls) == 3
    assert put(inst.id, {'enabled': True})[0] == 202
    assert db_pitr.get(inst.id).prefix != prefix     # a new period, a new prefix


def test_update_refusals_change_nothing(app, tm):
    redis = _instance('redis', '7.0')
    replica = _instance(slave_of_id=_instance().id)
    busy = _instance(task=Task.RESIZING)
    for iid, code in ((redis.id, 400), (replica.id, 400), (busy.id, 422)):
        status, body = call(app, 'PUT', T + '/instances/%s' % iid,
                            {'instance': {'pitr': {'enabled': True}, 'name': 'renamed'}})
        assert status == code, body
        assert db_pitr.get(iid) is None and db_api.get_instance(iid).name == 'i'
    status, body = call(app, 'PUT', T + '/instances/%s' % redis.id,
                        {'instance': {'pitr': {'enabled': 'on'}}})
    assert status == 400
    assert tm.calls == []


def _full(inst, created, updated, parent=None):
    row = db_backups.create_backup(dict(
        name='b', tenant_id='t1', instance_id=inst.id,
        backup_type='incremental' if parent else 'full', parent_id=parent,
        datastore_version_id=inst.datastore_version_id, storage_driver='local'))
    db_backups.update_backup(row.id, state=BackupState.COMPLETED, size=0.5,
                             location='/x/%s' % row.id, checksum='c' * 64)
    with writer() as session:
        stored = session.get(models.Backup, row.id)
        stored.created, stored.updated = created, updated
    return row.id


def _archiving(minutes=60):
    """A PostgreSQL source archiving for ``minutes``: full backups ended 50 and
    20 minutes ago, shipped up to a minute ago."""
    inst = _instance()
    db_pitr.request(inst.id, True, 'c1', 'local')
    db_pitr.mark_started(inst.id, NOW - datetime.timedelta(minutes=minutes))
    ago = lambda m: NOW - datetime.timedelta(minutes=m)  # noqa: E731
    old = _full(inst, ago(51), ago(50))
    new = _full(inst, ago(21), ago(20))
    with writer() as session:
        session.get(models.InstancePitr, inst.id).latest = ago(1)
    return inst, old, new


def _at(minutes_ago):
    return (NOW - datetime.timedelta(minutes=minutes_ago)).strftime('%Y-%m-%dT%H:%M:%SZ')


def test_show_and_restore_to_a_time(app, tm):
    inst, old, new = _archiving()
    window = _show(app, inst.id)['pitr']
    # Inside the window: the earliest rounded up to the second, the latest
    # down to the millisecond.
    earliest = NOW - datetime.timedelta(minutes=50)
    earliest = earliest.replace(microsecond=0) + datetime.timedelta(
        seconds=1 if earliest.microsecond else 0)
    assert window == {'enabled': True,
                      'earliest_restorable_time': earliest.strftime('%Y-%m-%dT%H:%M:%SZ'),
                      'latest_restorable_time': _at(1).replace('Z', '.%03dZ' % (
                          NOW.microsecond // 1000) if NOW.microsecond >= 1000 else 'Z')}
    for when, chosen in ((_at(30), old), (_at(10), new)):
        status, body = call(app, 'POST', T + '/instances', _pg_body(
            restorePoint={'instanceRef': inst.id, 'restoreTime': when}))
        assert status == 200, body
        cast = tm.calls[-1][1]
        assert cast['backup_id'] == chosen
        assert cast['pitr'] == {'restore_time': when.replace('Z', '+00:00'), 'container': 'c1',
                                'prefix': db_pitr.get(inst.id).prefix,
                                'storage_driver': 'local'}
    # backupRef names the source too; the nearest earlier backup is used.
    status, body = call(app, 'POST', T + '/instances', _pg_body(
        restorePoint={'backupRef': old, 'restoreTime': _at(10)}))
    assert status == 200 and tm.calls[-1][1]['backup_id'] == new


@pytest.mark.parametrize('manager, version, base', [
    ('mariadb', '10.11', 'incremental'), ('postgresql', '16', 'full')])
def test_an_incremental_is_the_base_where_the_engine_applies_the_chain(
        app, tm, manager, version, base):
    """MariaDB replays from the newest backup of the chain it restored: the
    incremental ending before the time; PostgreSQL from the chain's full."""
    inst = _instance(manager, version)
    db_pitr.request(inst.id, True, 'c1', 'local')
    db_pitr.mark_started(inst.id, NOW - datetime.timedelta(minutes=60))
    ago = lambda m: NOW - datetime.timedelta(minutes=m)  # noqa: E731
    full = _full(inst, ago(51), ago(50))
    inc = _full(inst, ago(21), ago(20), parent=full)
    with writer() as session:
        session.get(models.InstancePitr, inst.id).latest = ago(1)
    # The window still opens at the full backup's end.
    assert _show(app, inst.id)['pitr']['earliest_restorable_time'] == pitr.Window(
        ago(50), None).to_dict()['earliest_restorable_time']
    datastore = {'type': manager, 'version': version}
    for when, chosen in ((_at(30), full), (_at(10), inc if base == 'incremental' else full)):
        status, body = call(app, 'POST', T + '/instances', create_body(
            datastore=datastore, restorePoint={'instanceRef': inst.id, 'restoreTime': when}))
        assert status == 200, body
        assert tm.calls[-1][1]['backup_id'] == chosen, (when, base)


@pytest.mark.parametrize('point, words', [
    ({'restoreTime': '2026-01-01T00:00:00Z'}, 'restorePoint'),
    ({'instanceRef': 'SOURCE'}, 'restorePoint'),
    ({'instanceRef': 'SOURCE', 'restoreTime': 'yesterday'}, 'ISO 8601'),
    ({'instanceRef': 'SOURCE', 'restoreTime': ''}, 'ISO 8601'),
    ({'instanceRef': 'SOURCE', 'restoreTime': '2026-01-01T00:00:00'}, 'time zone'),
    ({'instanceRef': 'SOURCE', 'restoreTime': 'BEFORE'}, 'outside'),
    ({'instanceRef': 'SOURCE', 'restoreTime': 'AFTER'}, 'outside'),
])
def test_bad_restore_times_are_400_and_create_nothing(app, tm, point, words):
    inst, _old, _new = _archiving()
    point = {k: {'SOURCE': inst.id, 'BEFORE': _at(55), 'AFTER': _at(-5)}.get(v, v)
             for k, v in point.items()}
    before = _count()
    status, body = call(app, 'POST', T + '/instances', _pg_body(restorePoint=point))
    assert status == 400 and words in body['badRequest']['message'], body
    assert _count() == before and tm.calls == []


def test_restore_needs_an_archiving_source(app, tm):
    plain = _instance()
    _full(plain, NOW, NOW)
    redis = _instance('redis', '7.0')
    for iid, words in ((plain.id, 'no recoverable window'), (redis.id, 'not supported')):
        status, body = call(app, 'POST', T + '/instances', _pg_body(
            restorePoint={'instanceRef': iid, 'restoreTime': _at(0)}))
        assert status == 400 and words in body['badRequest']['message'], body
    for ref in ('nope', ''):
        status, body = call(app, 'POST', T + '/instances', _pg_body(
            restorePoint={'instanceRef': ref, 'restoreTime': _at(0)}))
        assert status == 404, body
    assert tm.calls == []
