"""status / operating_status computation from the database alone."""
import datetime

import pytest

from trove.api.views import instances as views
from trove.common import states
from trove.db import api as db_api
from trove.db import models

from tests.unit.api.conftest import call, create_body

Task = states.InstanceTask
SS = states.ServiceStatus


class Row:
    def __init__(self, task, server_status=None):
        self.task_id = task.code
        self.server_status = server_status


class Status:
    def __init__(self, status, age):
        self.status_id = status.code
        self.updated_at = models.utcnow() - datetime.timedelta(seconds=age)


@pytest.mark.parametrize('task, server, expected', [
    (Task.BUILDING_ERROR_SERVER, 'ACTIVE', 'ERROR'),
    (Task.BUILDING_ERROR_TIMEOUT_GA, None, 'ERROR'),
    (Task.BUILDING_ERROR_SEC_GROUP, 'ACTIVE', 'ERROR'),
    (Task.BUILDING, None, 'BUILD'),
    (Task.BUILDING, 'ERROR', 'ERROR'),
    (Task.DELETING, 'ACTIVE', 'SHUTDOWN'),
    (Task.REBOOTING, 'ACTIVE', 'REBOOT'),
    (Task.RESIZING, 'ACTIVE', 'RESIZE'),
    (Task.RESTART_REQUIRED, 'ACTIVE', 'RESTART_REQUIRED'),
    (Task.NONE, 'ACTIVE', 'ACTIVE'),
    (Task.NONE, 'SHUTDOWN', 'SHUTDOWN'),
    (Task.NONE, 'VERIFY_RESIZE', 'RESIZE'),
    (Task.NONE, 'weird', 'UNKNOWN'),
    (Task.NONE, None, 'UNKNOWN'),
])
def test_status_table(task, server, expected):
    assert views.compute_status(Row(task, server)) == expected


@pytest.mark.parametrize('task, server, status, age, expected', [
    (Task.NONE, 'ACTIVE', SS.HEALTHY, 5, 'HEALTHY'),
    (Task.NONE, 'ACTIVE', SS.RUNNING, 5, 'ACTIVE'),
    (Task.NONE, 'ACTIVE', SS.HEALTHY, 3600, 'ERROR'),
    (Task.NONE, 'ACTIVE', SS.RESTART_REQUIRED, 3600, 'RESTART_REQUIRED'),
    (Task.NONE, 'SHUTDOWN', SS.HEALTHY, 5, ''),
    (Task.BUILDING, 'ACTIVE', SS.HEALTHY, 5, ''),
    (Task.REBOOTING, 'ACTIVE', SS.HEALTHY, 5, ''),
])
def test_operating_status_table(task, server, status, age, expected):
    result = views.compute_operating_status(Row(task, server), Status(status, age))
    assert result == expected


def test_show_healthy_then_heartbeat_expired(app):
    status, body = call(app, 'POST', '/v1.0/t1/instances', create_body())
    inst_id = body['instance']['id']
    db_api.update_instance(inst_id, server_status='ACTIVE', hostname='127.0.0.5',
                           compute_instance_id='srv-1', volume_id='vol-1')
    db_api.set_task(inst_id, Task.NONE)
    db_api.set_service_status(inst_id, SS.HEALTHY)
    _, body = call(app, 'GET', '/v1.0/t1/instances/%s' % inst_id)
    inst = body['instance']
    assert (inst['status'], inst['operating_status']) == ('ACTIVE', 'HEALTHY')
    assert inst['ip'] == ['127.0.0.5']
    assert inst['addresses'] == [{'address': '127.0.0.5', 'type': 'private',
                                  'network': 'private'}]
    assert inst['service_status_updated']
    # noauth_roles defaults to admin: admin-only fields are present.
    assert inst['server_id'] == 'srv-1' and inst['volume_id'] == 'vol-1'
    assert inst['tenant_id'] == 't1'
    old = models.utcnow() - datetime.timedelta(hours=1)
    from trove.db.session import writer
    with writer() as session:
        session.query(models.ServiceStatusRow).filter_by(instance_id=inst_id).update(
            {'updated_at': old})
    _, body = call(app, 'GET', '/v1.0/t1/instances/%s' % inst_id)
    assert body['instance']['operating_status'] == 'ERROR'
    assert body['instance']['status'] == 'ACTIVE'


def test_fault_details_only_for_admin(app):
    from trove.conf import CONF
    status, body = call(app, 'POST', '/v1.0/t1/instances', create_body())
    inst_id = body['instance']['id']
    db_api.set_task(inst_id, Task.BUILDING_ERROR_TIMEOUT_GA)
    db_api.save_fault(inst_id, 'guest did not start', details='Traceback ...')
    _, body = call(app, 'GET', '/v1.0/t1/instances/%s' % inst_id)
    assert body['instance']['fault']['details'] == 'Traceback ...'
    CONF.set_override('noauth_roles', ['member'])
    try:
        _, body = call(app, 'GET', '/v1.0/t1/instances/%s' % inst_id)
    finally:
        CONF.clear_override('noauth_roles')
    fault = body['instance']['fault']
    assert fault['message'] == 'guest did not start' and 'details' not in fault
    assert 'server_id' not in body['instance'] and 'tenant_id' not in body['instance']
    assert body['instance']['status'] == 'ERROR'
