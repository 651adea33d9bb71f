"""Configuration groups, parameters, instance update and actions through the API."""
import pytest

from trove.api.controllers import instances
from trove.common import states
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import configurations as cfg_db
from trove.db import datastores

from tests.unit.api.conftest import call

Task = states.InstanceTask
Status = states.ServiceStatus
T = '/v1.0/t1'


class TaskManager:
    """Records every cast by method name."""

    def __init__(self):
        self.calls = []
        self.fail = False

    def __getattr__(self, method):
        def cast(**kwargs):
            if self.fail:
                raise RuntimeError('broker down')
            self.calls.append((method, kwargs))
        return cast


@pytest.fixture
def tm(app, monkeypatch):
    rec = TaskManager()
    monkeypatch.setattr(instances, 'get_taskmanager', lambda ctx: rec)
    version = datastores.get_version(datastores.get_datastore('mariadb').id, '10.11')
    cfg_db.load_parameters_file(version.id, cfg_db.rules_path('mariadb'))
    rec.version_id = version.id
    return rec


def _instance(tm, task=Task.NONE, status=Status.HEALTHY, tenant='t1', **values):
    inst = db_api.create_instance(dict(name='db1', tenant_id=tenant, flavor_id='1',
                                       volume_size=1, datastore_version_id=tm.version_id,
                                       **values))
    db_api.set_task(inst.id, Task.NONE)
    if task is not Task.NONE:
        db_api.set_task(inst.id, task)
    db_api.update_instance(inst.id, server_status='ACTIVE')
    db_api.set_service_status(inst.id, status)
    return inst.id


def _group(app, values=None, name='g1'):
    status, body = call(app, 'POST', T + '/configurations', {'configuration': {
        'name': name, 'values': values or {'max_connections': 77},
        'datastore': {'type': 'mariadb', 'version': '10.11'}}})
    assert status == 200, body
    return body['configuration']


# -- parameters ----------------------------------------------------------------

def test_parameters_by_datastore_and_by_version(app, tm):
    status, body = call(app, 'GET', T + '/datastores/mariadb/versions/10.11/parameters')
    assert status == 200
    params = {p['name']: p for p in body['configuration-parameters']}
    assert params['max_connections'] == {
        'name': 'max_connections', 'datastore_version_id': tm.version_id,
        'restart_required': False, 'type': 'integer', 'min': 10, 'max': 100000}
    assert 'min' not in params['sql_mode']
    status, body = call(app, 'GET', T + '/datastores/versions/%s/parameters/'
                                        'innodb_buffer_pool_size' % tm.version_id)
    assert status == 200 and body['restart_required'] is True
    status, body = call(app, 'GET', T + '/datastores/mariadb/versions/10.11/parameters/nope')
    assert status == 404 and 'nope' in body['itemNotFound']['message']
    assert call(app, 'GET', T + '/datastores/versions/bad/parameters')[0] == 404


# -- configuration groups ------------------------------------------------------------

def test_create_show_list(app, tm):
    group = _group(app, {'max_connections': 77, 'long_query_time': 0.5})
    assert group['values'] == {'max_connections': 77, 'long_query_time': 0.5}
    assert group['instance_count'] == 0
    assert group['datastore_name'] == 'mariadb'
    assert group['datastore_version_name'] == '10.11'
    assert group['datastore_version_id'] == tm.version_id
    status, body = call(app, 'GET', T + '/configurations/%s' % group['id'])
    assert status == 200 and body['configuration']['values'] == group['values']
    status, body = call(app, 'GET', T + '/configurations')
    assert [g['id'] for g in body['configurations']] == [group['id']]
    assert 'values' not in body['configurations'][0]
    # Another tenant's member sees nothing; an admin addresses it by id (as
    # upstream) but lists only the URL's project.
    CONF.set_override('noauth_trust_roles_header', True)
    member = {'X-Roles': 'member'}
    assert call(app, 'GET', '/v1.0/t2/configurations/%s' % group['id'],
                headers=member)[0] == 404
    assert call(app, 'GET', '/v1.0/t2/configurations', headers=member)[1] == {
        'configurations': []}
    assert call(app, 'GET', '/v1.0/t2/configurations/%s' % group['id'])[0] == 200
    assert call(app, 'GET', '/v1.0/t2/configurations')[1] == {'configurations': []}
    CONF.clear_override('noauth_trust_roles_header')


@pytest.mark.parametrize('values, words', [
    ({'max_connections': -5}, 'max_connections is less than the minimum'),
    ({'max_connections': 'abc'}, 'max_connections is not of type integer'),
    ({'bogus': 1}, 'bogus is not supported'),
])
def test_create_invalid_values_stores_nothing(app, tm, values, words):
    status, body = call(app, 'POST', T + '/configurations', {'configuration': {
        'name': 'bad', 'values': values, 'datastore': {'type': 'mariadb'}}})
    assert status == 400 and words in body['badRequest']['message']
    assert call(app, 'GET', T + '/configurations')[1] == {'configurations': []}


def test_create_schema_errors(app, tm):
    status, body = call(app, 'POST', T + '/configurations',
                        {'configuration': {'name': 'x', 'values': [1]}})
    assert status == 400 and 'Validation error' in body['badRequest']['message']
    status, _ = call(app, 'POST', T + '/configurations', {'configuration': {
        'name': 'x', 'values': {}, 'datastore': {'type': 'nosuch'}}})
    assert status == 404


def test_patch_merges_and_reapplies(app, tm):
    group = _group(app, {'max_connections': 77})
    iid = _instance(tm, configuration_id=group['id'])
    status, body = call(app, 'PATCH', T + '/configurations/%s' % group['id'],
                        {'configuration': {'values': {'wait_timeout': 600}}})
    assert status == 200 and body is None
    assert cfg_db.get_values(group['id']) == {'max_connections': 77, 'wait_timeout': 600}
    assert tm.calls == [('apply_configuration', {
        'instance_id': iid, 'old_values': {'max_connections': 77},
        'new_values': {'max_connections': 77, 'wait_timeout': 600}})]


def test_put_replaces_and_bad_values_change_nothing(app, tm):
    group = _group(app, {'max_connections': 77})
    _instance(tm, configuration_id=group['id'])
    url = T + '/configurations/%s' % group['id']
    status, body = call(app, 'PUT', url, {'configuration': {'values': {
        'max_connections': 'abc'}}})
    assert status == 400 and 'max_connections' in body['badRequest']['message']
    status, body = call(app, 'PATCH', url, {'configuration': {'values': {'x': 1}}})
    assert status == 400
    assert cfg_db.get_values(group['id']) == {'max_connections': 77}
    assert tm.calls == []
    status, _ = call(app, 'PUT', url, {'configuration': {
        'name': 'renamed', 'values': {'wait_timeout': 5}}})
    assert status == 202
    assert cfg_db.get_values(group['id']) == {'wait_timeout': 5}
    assert cfg_db.config_name(group['id']) == 'renamed'
    assert tm.calls[0][1]['new_values'] == {'wait_timeout': 5}


def test_delete_refused_while_attached(app, tm):
    group = _group(app)
    iid = _instance(tm, configuration_id=group['id'])
    url = T + '/configurations/%s' % group['id']
    status, body = call(app, 'GET', url + '/instances')
    assert [i['id'] for i in body['instances']] == [iid]
    status, body = call(app, 'DELETE', url)
    assert status == 400 and 'detach' in body['badRequest']['message']
    db_api.update_instance(iid, configuration_id=None)
    assert call(app, 'DELETE', url)[0] == 202
    assert call(app, 'GET', url)[0] == 404


# -- instance update ---------------------------------------------------------------

def test_attach_detach_and_rename(app, tm):
    group = _group(app, {'max_connections': 77})
    iid = _instance(tm)
    url = T + '/instances/%s' % iid
    status, _ = call(app, 'PUT', url, {'instance': {'configuration': group['id']}})
    assert status == 202
    assert db_api.get_instance(iid).configuration_id == group['id']
    assert tm.calls[-1] == ('apply_configuration', {
        'instance_id': iid, 'old_values': {}, 'new_values': {'max_connections': 77}})
    status, body = call(app, 'GET', url)
    assert body['instance']['configuration']['id'] == group['id']
    assert body['instance']['configuration']['name'] == 'g1'
    # A second attach is refused until detach.
    status, body = call(app, 'PUT', url, {'instance': {'configuration': group['id']}})
    assert status == 400 and 'already' in body['badRequest']['message']
    status, _ = call(app, 'PATCH', url, {'instance': {}})
    assert status == 202
    assert db_api.get_instance(iid).configuration_id is None
    assert tm.calls[-1][1]['old_values'] == {'max_connections': 77}
    assert tm.calls[-1][1]['new_values'] == {}
    status, _ = call(app, 'PUT', url, {'instance': {'name': 'renamed'}})
    assert status == 202 and db_api.get_instance(iid).name == 'renamed'
    assert len(tm.calls) == 2  # a rename touches no configuration


def test_attach_refusals(app, tm):
    group = _group(app)
    busy = _instance(tm, task=Task.RESIZING)
    status, body = call(app, 'PUT', T + '/instances/%s' % busy,
                        {'instance': {'configuration': group['id']}})
    assert status == 422 and 'RESIZING' in body['unprocessableEntity']['message']
    iid = _instance(tm)
    status, _ = call(app, 'PUT', T + '/instances/%s' % iid, {'instance': {
        'configuration': '00000000-0000-0000-0000-000000000000'}})
    assert status == 404
    status, body = call(app, 'PUT', T + '/instances/%s' % iid,
                        {'instance': {'configuration': 'not-a-uuid'}})
    assert status == 400 and 'Validation error' in body['badRequest']['message']
    assert db_api.get_instance(iid).configuration_id is None
    assert tm.calls == []


def test_attach_cast_failure_rolls_back(app, tm):
    group = _group(app)
    iid = _instance(tm)
    tm.fail = True
    status, _ = call(app, 'PUT', T + '/instances/%s' % iid,
                     {'instance': {'configuration': group['id']}})
    assert status == 503
    assert db_api.get_instance(iid).configuration_id is None


def test_instance_configuration_view(app, tm):
    iid = _instance(tm)
    status, body = call(app, 'GET', T + '/instances/%s/configuration' % iid)
    assert status == 200
    values = body['instance']['configuration']
    assert values['max_connections'] == 128  # 512 MB flavor / 4, floor 100
    assert values['innodb_buffer_pool_size'] == '256M'


# -- actions ---------------------------------------------------------------------------

def _action(app, iid, body):
    return call(app, 'POST', T + '/instances/%s/action' % iid, body)


def test_restart_claims_and_casts(app, tm):
    iid = _instance(tm, task=Task.RESTART_REQUIRED, status=Status.RESTART_REQUIRED)
    status, body = _action(app, iid, {'restart': {}})
    assert status == 202 and body is None
    assert db_api.get_task(db_api.get_instance(iid)) is Task.REBOOTING
    assert db_api.get_service_status(iid).status_id == Status.RESTARTING.code
    assert tm.calls == [('restart', {'instance_id': iid})]
    status, body = _action(app, iid, {'restart': {}})
    assert status == 422 and 'REBOOTING' in body['unprocessableEntity']['message']


def test_restart_cast_failure_restores_state(app, tm):
    iid = _instance(tm, task=Task.RESTART_REQUIRED, status=Status.RESTART_REQUIRED)
    tm.fail = True
    status, _ = _action(app, iid, {'restart': {}})
    assert status == 503
    assert db_api.get_task(db_api.get_instance(iid)) is Task.RESTART_REQUIRED
    assert db_api.get_service_status(iid).status_id == Status.RESTART_REQUIRED.code
    assert 'could not be sent' in db_api.get_fault(iid).message


@pytest.mark.parametrize('task, status, server', [
    (Task.BUILDING, Status.NEW, 'ACTIVE'),
    (Task.NONE, Status.FAILED, 'ACTIVE'),
    (Task.NONE, Status.HEALTHY, 'SHUTDOWN'),
])
def test_actions_need_an_available_instance(app, tm, task, status, server):
    inst = db_api.create_instance(dict(name='x', tenant_id='t1', flavor_id='1',
                                       volume_size=1, datastore_version_id=tm.version_id))
    if task is not Task.BUILDING:
        db_api.set_task(inst.id, task)
    db_api.update_instance(inst.id, server_status=server)
    db_api.set_service_status(inst.id, status)
    code, body = _action(app, inst.id, {'restart': {}})
    assert code == 422, body
    assert tm.calls == []


def test_resize_flavor(app, tm):
    iid = _instance(tm)
    status, body = _action(app, iid, {'resize': {'flavorRef': '1'}})
    assert status == 400 and 'different' in body['badRequest']['message']
    assert _action(app, iid, {'resize': {'flavorRef': 'nope'}})[0] == 404
    status, _ = _action(app, iid, {'resize': {'flavorRef': 'small'}})
    assert status == 202
    (method, kwargs), = tm.calls
    assert method == 'resize_flavor'
    assert kwargs['old_flavor']['id'] == '1' and kwargs['new_flavor']['ram'] == 2048
    assert db_api.get_task(db_api.get_instance(iid)) is Task.RESIZING


def test_resize_volume(app, tm):
    iid = _instance(tm)
    for size in (1, 0, '1'):
        status, body = _action(app, iid, {'resize': {'volume': {'size': size}}})
        assert status == 400, size
    status, body = _action(app, iid, {'resize': {'volume': {'size': 10000}}})
    assert status == 400 and 'maximum' in body['badRequest']['message']
    status, _ = _action(app, iid, {'resize': {'volume': {'size': '3'}}})
    assert status == 202
    assert tm.calls == [('resize_volume', {'instance_id': iid, 'new_size': 3})]


@pytest.mark.parametrize('body', [
    {}, {'restart': {}, 'reset_status': {}}, {'reboot': {}},
    {'resize': {}}, {'resize': {'flavorRef': '2', 'volume': {'size': 2}}},
])
def test_action_body_needs_exactly_one_known_key(app, tm, body):
    iid = _instance(tm)
    status, resp = _action(app, iid, body)
    assert status == 400 and 'Validation error' in resp['badRequest']['message']


def test_reset_status_is_admin_only(app, tm):
    iid = _instance(tm, task=Task.REBOOTING)
    CONF.set_override('noauth_roles', ['member'])
    try:
        status, _ = _action(app, iid, {'reset_status': {}})
    finally:
        CONF.clear_override('noauth_roles')
    assert status == 403
    assert db_api.get_task(db_api.get_instance(iid)) is Task.REBOOTING
    status, _ = _action(app, iid, {'reset_status': {}})  # noauth default: admin
    assert status == 202
    assert db_api.get_task(db_api.get_instance(iid)) is Task.NONE
    assert db_api.get_service_status(iid).status_id == Status.UNKNOWN.code


def test_resize_volume_is_charged_to_the_quota(app, tm):
    from trove.common import quota
    iid = _instance(tm)
    quota.set_limits('t1', {'volumes': 2})
    status, body = _action(app, iid, {'resize': {'volume': {'size': 5}}})
    assert status == 413 and 'volumes' in body['overLimit']['message']
    assert db_api.get_task(db_api.get_instance(iid)) is Task.NONE
    assert tm.calls == []
    status, _ = _action(app, iid, {'resize': {'volume': {'size': 2}}})
    assert status == 202
    usage = {u['resource']: u['in_use'] for u in quota.get_usage('t1')}
    assert usage['volumes'] == 2  # 1 GB counted from the row, +1 GB for the growth


# -- access --------------------------------------------------------------------

def test_update_access_is_stored_and_shown(app, tm):
    iid = _instance(tm)
    access = {'is_public': True, 'allowed_cidrs': ['10.0.0.0/24']}
    status, _ = call(app, 'PUT', T + '/instances/%s' % iid, {'instance': {'access': access}})
    assert status == 202
    status, body = call(app, 'GET', T + '/instances/%s' % iid)
    assert body['instance']['access'] == access


@pytest.mark.parametrize('method', ['PUT', 'PATCH'])
def test_update_access_casts_update_access(app, tm, method):
    iid = _instance(tm)
    access = {'is_public': False, 'allowed_cidrs': ['192.168.0.0/16']}
    status, _ = call(app, method, T + '/instances/%s' % iid, {'instance': {'access': access}})
    assert status == 202
    assert tm.calls == [('update_access', {'instance_id': iid})]
    # No task is claimed: the instance stays available for other actions.
    assert db_api.get_task(db_api.get_instance(iid)) is Task.NONE


def test_update_access_cast_failure_is_503_and_keeps_the_old_access(app, tm):
    iid = _instance(tm)
    old = {'is_public': True, 'allowed_cidrs': ['10.0.0.0/24']}
    assert call(app, 'PUT', T + '/instances/%s' % iid, {'instance': {'access': old}})[0] == 202
    tm.fail = True
    status, body = call(app, 'PUT', T + '/instances/%s' % iid,
                        {'instance': {'access': {'allowed_cidrs': ['0.0.0.0/0']}}})
    assert status == 503, body
    assert 'taskmanager is unreachable' in str(body)
    status, body = call(app, 'GET', T + '/instances/%s' % iid)
    assert body['instance']['access'] == old


def test_rename_does_not_cast_update_access(app, tm):
    iid = _instance(tm)
    assert call(app, 'PUT', T + '/instances/%s' % iid, {'instance': {'name': 'x'}})[0] == 202
    assert [c for c in tm.calls if c[0] == 'update_access'] == []


@pytest.mark.parametrize('access', [{'allowed_cidrs': ['10.0.0.0/33x']},
                                    {'allowed_cidrs': ['999.1.1.1/8']},
                                    {'is_public': 'yes'}, {'other': 1}])
def test_update_access_rejects_bad_values(app, tm, access):
    iid = _instance(tm)
    status, body = call(app, 'PUT', T + '/instances/%s' % iid, {'instance': {'access': access}})
    assert status == 400, body
    assert 'badRequest' in body
    status, body = call(app, 'GET', T + '/instances/%s' % iid)
    assert 'access' not in body['instance'] or body['instance']['access'] != access
