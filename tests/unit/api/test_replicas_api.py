"""Replicas in the API: create, refusals, detach, promote, eject, views."""
import pytest

from trove.common import states
from trove.db import api as db_api
from trove.db import replicas
from trove.db import task_requests

from tests.unit.api.conftest import call
from tests.unit.api.test_configurations_api import _instance, tm  # noqa: F401

Task = states.InstanceTask
T = '/v1.0/t1'


@pytest.fixture
def primary(tm):  # noqa: F811
    return _instance(tm, compute_instance_id='srv-1', hostname='127.0.0.9')


def _replica(app, primary, **extra):
    body = {'name': 'r', 'replica_of': primary}
    body.update(extra)
    return call(app, 'POST', T + '/instances', {'instance': body})


def test_create_replicas_claims_each_and_casts(app, tm, primary):  # noqa: F811
    status, body = _replica(app, primary, replica_count=2)
    assert status == 200, body
    casts = [kw for method, kw in tm.calls if method == 'create_replica']
    assert len(casts) == 2 and {c['primary_id'] for c in casts} == {primary}
    ids = sorted(c['instance_id'] for c in casts)
    assert body['instance']['id'] in ids
    assert body['instance']['replica_of']['id'] == primary
    for iid in ids:
        inst = db_api.get_instance(iid)
        assert inst.slave_of_id == primary and inst.volume_size == 1
        assert task_requests.load(iid)[0] == 'create_replica'
    shown = call(app, 'GET', T + '/instances/%s' % primary)[1]['instance']
    assert sorted(r['id'] for r in shown['replicas']) == ids
    usage = {u['resource']: u['in_use'] for u in call(
        app, 'GET', T + '/mgmt/quotas/t1')[1]['quotas']}
    assert usage['instances'] == 3          # the primary and its two replicas


def test_refusals_change_nothing(app, tm, primary):  # noqa: F811
    assert _replica(app, 'nope')[0] == 400
    status, body = _replica(app, primary)
    replica = body['instance']['id']
    db_api.set_task(replica, Task.NONE)
    status, body = _replica(app, replica)
    assert status == 400 and 'replica of replica' in body['badRequest']['message']
    status, body = call(app, 'DELETE', T + '/instances/%s' % primary)
    assert status == 403 and replica in body['forbidden']['message']
    assert db_api.get_task(db_api.get_instance(primary)) is Task.NONE
    status, _ = call(app, 'POST', T + '/instances/%s/action' % primary,
                     {'promote_to_replica_source': {}})
    assert status == 400
    status, body = call(app, 'POST', T + '/instances/%s/action' % primary,
                        {'eject_replica_source': {}})
    assert status == 400 and 'still reporting' in body['badRequest']['message']
    assert [m for m, _ in tm.calls] == ['create_replica']


def test_detach_and_promote_claim_the_replica(app, tm, primary):  # noqa: F811
    replica = _replica(app, primary)[1]['instance']['id']
    db_api.set_task(replica, Task.NONE)
    db_api.update_instance(replica, server_status='ACTIVE')
    db_api.set_service_status(replica, states.ServiceStatus.HEALTHY)
    status, _ = call(app, 'POST', T + '/instances/%s/action' % replica,
                     {'promote_to_replica_source': {}})
    assert status == 202
    assert tm.calls[-1] == ('promote_to_replica_source', {'instance_id': replica})
    assert db_api.get_task(db_api.get_instance(replica)) is Task.PROMOTING
    assert task_requests.load(replica)[0] == 'promote_to_replica_source'
    db_api.set_task(replica, Task.NONE)
    task_requests.finish(replica)
    status, _ = call(app, 'PUT', T + '/instances/%s' % replica,
                     {'instance': {'replica_of': ''}})
    assert status == 202
    assert tm.calls[-1] == ('detach_replica', {'instance_id': replica})
    assert db_api.get_task(db_api.get_instance(replica)) is Task.DETACHING
    status, _ = call(app, 'PUT', T + '/instances/%s' % primary,
                     {'instance': {'replica_of': ''}})
    assert status == 400


def test_replica_set_credentials_are_stable_and_secret(db):
    user, password = replicas.credentials('p1')
    assert replicas.credentials('p1') == (user, password)
    assert user == 'os_repl' and len(password) >= 24
    from sqlalchemy import select
    from trove.db import models
    from trove.db.session import reader
    with reader() as session:
        row = session.scalars(select(models.ReplicaSet)).one()
        assert password not in row.password
    replicas.set_primary('p1', 'p2', [])
    assert replicas.credentials('p2') == (user, password)


def test_user_and_database_changes_on_a_replica_are_refused(app, tm, primary):  # noqa: F811
    replica = _replica(app, primary)[1]['instance']['id']
    db_api.set_task(replica, Task.NONE)
    db_api.update_instance(replica, server_status='ACTIVE')
    db_api.set_service_status(replica, states.ServiceStatus.HEALTHY)
    for method, path, body in (
            ('POST', '/databases', {'databases': [{'name': 'd2'}]}),
            ('POST', '/users', {'users': [{'name': 'u2', 'password': 'pw'}]}),
            ('POST', '/root', None), ('DELETE', '/databases/d1', None)):
        status, fault = call(app, method, T + '/instances/%s%s' % (replica, path), body)
        assert status == 400 and 'is a replica' in fault['badRequest']['message'], path


def _ready(iid):
    db_api.set_task(iid, Task.NONE)
    db_api.update_instance(iid, server_status='ACTIVE')
    db_api.set_service_status(iid, states.ServiceStatus.HEALTHY)


def test_volume_resize_of_a_primary_resizes_its_replicas(app, tm, primary):  # noqa: F811
    replica = _replica(app, primary)[1]['instance']['id']
    # A replica that cannot take the resize now: nothing is resized.
    status, body = call(app, 'POST', T + '/instances/%s/action' % primary,
                        {'resize': {'volume': {'size': 2}}})
    assert status == 422 and replica in body['unprocessableEntity']['message']
    assert db_api.get_task(db_api.get_instance(primary)) is Task.NONE
    assert [m for m, _ in tm.calls] == ['create_replica']
    _ready(replica)
    task_requests.finish(replica)
    status, _ = call(app, 'POST', T + '/instances/%s/action' % primary,
                     {'resize': {'volume': {'size': 2}}})
    assert status == 202
    assert tm.calls[-2:] == [('resize_volume', {'instance_id': primary, 'new_size': 2}),
                             ('resize_volume', {'instance_id': replica, 'new_size': 2})]
    for iid in (primary, replica):
        assert db_api.get_task(db_api.get_instance(iid)) is Task.RESIZING
        assert task_requests.load(iid)[0] == 'resize_volume'


def test_mgmt_show_has_the_replica_stream(app, tm, primary):  # noqa: F811
    from trove.conductor import manager as conductor
    replica = _replica(app, primary)[1]['instance']['id']
    _ready(replica)
    report = {'following': '127.0.0.9:3306', 'lag': 3, 'healthy': True, 'broken': False,
              'error': None, 'password': 'must not be kept'}
    conductor.Manager()._heartbeat(replica, {'service_status': 'healthy',
                                             'replication': report}, None)
    shown = call(app, 'GET', T + '/mgmt/instances/%s' % replica)[1]['instance']
    assert shown['replication'] == {'following': '127.0.0.9:3306', 'lag': 3,
                                    'healthy': True, 'broken': False, 'error': None}
    # The stream breaks: operating status ERROR; detached later: no report.
    conductor.Manager()._heartbeat(replica, {'service_status': 'replication broken',
                                             'replication': dict(report, healthy=False,
                                                                 broken=True)}, None)
    shown = call(app, 'GET', T + '/instances/%s' % replica)[1]['instance']
    assert shown['operating_status'] == 'ERROR'
    conductor.Manager()._heartbeat(replica, {'service_status': 'healthy',
                                             'replication': None}, None)
    shown = call(app, 'GET', T + '/mgmt/instances/%s' % replica)[1]['instance']
    assert 'replication' not in shown and shown['service_status'] == 'healthy'
