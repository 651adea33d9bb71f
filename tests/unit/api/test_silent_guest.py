"""A guest that has not reported is refused with the same 422 everywhere.

Restart, resize, configuration attach, backups, guest logs, databases and
the admin stop all answer the one message of readiness.refuse_silent_guest;
the admin reboot stays allowed (it is the repair) and ends a backup that such
a guest can no longer finish instead of being refused because of it.
"""
import datetime

import pytest

from trove.api.controllers import backups as backups_ctl
from trove.common import states
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import models
from trove.db.session import writer

from tests.unit.api.conftest import call
from tests.unit.api.test_configurations_api import _group, _instance
from tests.unit.api.test_mgmt_actions import Guest, _backup, _mgmt, _task, tm  # noqa: F401

Task = states.InstanceTask
T = '/v1.0/t1'
SILENT = 'its guest agent has not reported recently'


def _silence(iid, seconds=3600):
    old = models.utcnow() - datetime.timedelta(seconds=seconds)
    with writer() as session:
        session.query(models.ServiceStatusRow).filter_by(instance_id=iid).update(
            {'updated_at': old})


def _message(body):
    return body['unprocessableEntity']['message']


@pytest.mark.parametrize('method, path, body', [
    ('POST', '/instances/%s/action', {'restart': {}}),
    ('POST', '/instances/%s/action', {'resize': {'flavorRef': 'small'}}),
    ('POST', '/instances/%s/action', {'resize': {'volume': {'size': 2}}}),
    ('GET', '/instances/%s/databases', None),
    ('GET', '/instances/%s/users', None),
    ('GET', '/instances/%s/log', None),
    ('POST', '/instances/%s/log', {'name': 'guest', 'publish': 1}),
    ('POST', '/mgmt/instances/%s/action', {'stop': {}}),
])
def test_work_for_a_silent_guest_is_refused_alike(app, tm, method, path, body):  # noqa: F811
    iid = _instance(tm)
    _silence(iid)
    status, resp = call(app, method, T + path % iid, body)
    assert status == 422 and SILENT in _message(resp), resp
    assert _task(iid) is Task.NONE and tm.calls == [] and Guest.calls == []


def test_a_fresh_heartbeat_is_not_refused(app, tm):  # noqa: F811
    iid = _instance(tm)
    _silence(iid, seconds=5)
    assert call(app, 'POST', T + '/instances/%s/action' % iid, {'restart': {}})[0] == 202


def test_configuration_attach_refused_alike(app, tm):  # noqa: F811
    iid = _instance(tm)
    group = _group(app)
    _silence(iid)
    status, resp = call(app, 'PUT', T + '/instances/%s' % iid,
                        {'instance': {'configuration': group['id']}})
    assert status == 422 and SILENT in _message(resp)
    assert db_api.get_instance(iid).configuration_id is None and tm.calls == []


def test_backup_create_refused_alike(app, tm, monkeypatch):  # noqa: F811
    monkeypatch.setattr(backups_ctl, 'get_taskmanager', lambda ctx: tm)
    iid = _instance(tm)
    _silence(iid)
    status, resp = call(app, 'POST', T + '/backups',
                        {'backup': {'name': 'b1', 'instance': iid}})
    assert status == 422 and SILENT in _message(resp)
    assert db_backups.list_backups(instance_id=iid) == [] and tm.calls == []


def test_admin_reboot_of_a_silent_guest_ends_its_backup(app, tm):  # noqa: F811
    iid = _instance(tm, compute_instance_id='srv-1')
    running = _backup(iid)
    _silence(iid)
    status, _ = _mgmt(app, iid, {'reboot': {}})
    assert status == 202 and _task(iid) is Task.REBOOTING
    assert tm.calls == [('reboot', {'instance_id': iid})]
    assert db_backups.get_backup(running).state == 'FAILED'
    assert 'stopped reporting' in db_api.get_fault(iid).message


def test_admin_reboot_still_waits_for_a_backup_of_a_live_guest(app, tm):  # noqa: F811
    iid = _instance(tm, compute_instance_id='srv-1')
    running = _backup(iid)
    status, resp = _mgmt(app, iid, {'reboot': {}})
    assert status == 422 and 'backup is running' in _message(resp)
    assert db_backups.get_backup(running).state == 'BUILDING'
