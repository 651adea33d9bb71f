"""Upgrade (PATCH datastore_version) and mgmt rebuild: claims, requests, casts."""
from trove.common import states
from trove.db import api as db_api
from trove.db import datastores
from trove.db import task_requests

from tests.unit.api.conftest import call
from tests.unit.api.test_configurations_api import _instance, tm  # noqa: F401

Task = states.InstanceTask
T = '/v1.0/t1'


def _second_version(name='10.11-next', image='img-next', manager='mariadb', active=True):
    datastores.version_update('mariadb', name, manager, image_id=image, packages='',
                              active=active)
    return datastores.get_version(datastores.get_datastore('mariadb').id, name)


def test_upgrade_claims_stores_and_casts(app, tm):  # noqa: F811
    iid = _instance(tm, compute_instance_id='srv-1')
    target = _second_version()
    status, body = call(app, 'PATCH', T + '/instances/%s' % iid,
                        {'instance': {'datastore_version': '10.11-next'}})
    assert status == 202, body
    args = {'image_id': 'img-next', 'datastore_version_id': target.id}
    assert tm.calls == [('upgrade', dict(instance_id=iid, **args))]
    assert db_api.get_task(db_api.get_instance(iid)) is Task.UPGRADING
    assert task_requests.load(iid)[:2] == ('upgrade', args)
    shown = call(app, 'GET', T + '/instances/%s' % iid)[1]['instance']
    assert shown['status'] == 'UPGRADE'
    # Busy now: a second upgrade is refused and nothing else is sent.
    status, _ = call(app, 'PATCH', T + '/instances/%s' % iid,
                     {'instance': {'datastore_version': target.id}})
    assert status in (409, 422) and len(tm.calls) == 1


def test_upgrade_refusals_change_nothing(app, tm):  # noqa: F811
    iid = _instance(tm, compute_instance_id='srv-1')
    _second_version('10.11-off', active=False)
    _second_version('other-manager', manager='postgresql')
    for ref, code in (('10.11', 400), ('nope', 404), ('10.11-off', 400),
                      ('other-manager', 400), ('', 400)):
        status, body = call(app, 'PATCH', T + '/instances/%s' % iid,
                            {'instance': {'datastore_version': ref}})
        assert status == code, (ref, body)
    status, _ = call(app, 'PATCH', T + '/instances/%s' % iid,
                     {'instance': {'datastore_version': '10.11-off', 'name': 'x'}})
    assert status == 400
    assert tm.calls == [] and task_requests.load(iid) is None
    inst = db_api.get_instance(iid)
    assert db_api.get_task(inst) is Task.NONE and inst.name == 'db1'


def test_mgmt_rebuild_keeps_the_version(app, tm):  # noqa: F811
    iid = _instance(tm, compute_instance_id='srv-1')
    status, _ = call(app, 'POST', T + '/mgmt/instances/%s/action' % iid,
                     {'rebuild': {'image_id': 'img-2'}})
    assert status == 202
    assert tm.calls == [('rebuild', {'instance_id': iid, 'image_id': 'img-2',
                                     'datastore_version_id': tm.version_id})]
    assert db_api.get_task(db_api.get_instance(iid)) is Task.UPGRADING


def test_cast_failure_puts_the_instance_back(app, tm):  # noqa: F811
    iid = _instance(tm, compute_instance_id='srv-1')
    _second_version()
    tm.fail = True
    status, _ = call(app, 'PATCH', T + '/instances/%s' % iid,
                     {'instance': {'datastore_version': '10.11-next'}})
    assert status == 503
    assert db_api.get_task(db_api.get_instance(iid)) is Task.NONE
    assert task_requests.load(iid) is None
