"""Backups API for PostgreSQL and Redis: accepted, and Redis is full only."""
import pytest

from trove.api.controllers import backups as backups_ctl
from trove.common import states
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import datastores

from tests.unit.api.conftest import call


class TMRecorder:
    def __init__(self):
        self.calls = []

    def create_backup(self, **kwargs):
        self.calls.append(kwargs)


@pytest.fixture
def tm(monkeypatch):
    rec = TMRecorder()
    monkeypatch.setattr(backups_ctl, 'get_taskmanager', lambda ctx: rec)
    return rec


def _instance(datastore, version):
    datastores.datastore_update(datastore)
    datastores.version_update(datastore, version, datastore)
    ds_version = datastores.resolve(datastore, version)[1]
    inst = db_api.create_instance(dict(name='i', tenant_id='t1', flavor_id='1', volume_size=2,
                                       datastore_version_id=ds_version.id))
    db_api.set_task(inst.id, states.InstanceTask.NONE)
    db_api.update_instance(inst.id, server_status='ACTIVE')
    db_api.set_service_status(inst.id, states.ServiceStatus.HEALTHY)
    return inst


def _post(app, **fields):
    return call(app, 'POST', '/v1.0/t1/backups', {'backup': fields})


def test_redis_full_accepted_incremental_refused(app, tm):
    inst = _instance('redis', '7.0')
    status, body = _post(app, name='full', instance=inst.id)
    assert status == 202, body
    assert tm.calls[-1]['backup_info']['datastore'] == 'redis'
    for extra in ({'incremental': True}, {'parent_id': body['backup']['id']}):
        status, refused = _post(app, name='inc', instance=inst.id, **extra)
        assert status == 400, refused
        assert 'incremental backups are not supported' in refused['badRequest']['message']
    assert len(tm.calls) == 1
    assert len(db_backups.list_backups('t1', inst.id, None, 10, 0)) == 1


def test_postgresql_full_and_incremental_accepted(app, tm):
    inst = _instance('postgresql', '15')
    status, full = _post(app, name='full', instance=inst.id)
    assert status == 202
    db_backups.update_backup(full['backup']['id'], state='COMPLETED', location='/x',
                             checksum='c' * 64)
    status, inc = _post(app, name='inc', instance=inst.id, incremental=True)
    assert status == 202, inc
    assert inc['backup']['parent_id'] == full['backup']['id']
    assert tm.calls[-1]['backup_info']['parent']['id'] == full['backup']['id']
