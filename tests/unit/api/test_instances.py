"""Instances API: create, list, show, delete through the paste pipeline."""

from trove.common import states
from trove.conf import CONF
from trove.db import api as db_api

from tests.unit.api.conftest import MEMBER, call, create_body

Task = states.InstanceTask
BASE = '/v1.0/t1/instances'


def _create(app, **overrides):
    status, body = call(app, 'POST', BASE, create_body(**overrides))
    assert status == 200, body
    return body['instance']


def test_create_returns_200_and_detail_view(app, recorder):
    inst = _create(app)
    assert inst['name'] == 'db1'
    assert inst['status'] == 'BUILD'
    assert inst['operating_status'] == ''
    assert inst['flavor']['id'] == '1'
    assert inst['datastore'] == {'type': 'mariadb', 'version': '10.11',
                                 'version_number': '10.11'}
    assert inst['volume'] == {'size': 1}
    assert inst['access'] == {'is_public': False}
    assert inst['region'] == CONF.region
    assert inst['links'][0]['href'] == (
        'https://trove.example:8779/v1.0/t1/instances/%s' % inst['id'])
    assert inst['links'][1]['href'] == 'https://trove.example:8779/instances/%s' % inst['id']
    assert inst['created'] and 'T' in inst['created']


def test_create_casts_to_taskmanager(app, recorder):
    inst = _create(app, flavorRef='https://x/v1.0/t1/flavors/1', volume={'size': '2'})
    (method, kwargs), = recorder.calls
    assert method == 'create_instance'
    assert kwargs['instance_id'] == inst['id']
    assert kwargs['flavor']['id'] == '1'
    assert kwargs['datastore_manager'] == 'mariadb'
    assert kwargs['ds_version'] == '10.11'
    assert kwargs['volume_size'] == 2
    assert kwargs['databases'] == [{'name': 'd1'}]
    assert kwargs['users'] == [{'name': 'u1', 'password': 'pw1', 'host': '%',
                                'databases': [{'name': 'd1'}]}]
    row = db_api.get_instance(inst['id'], 't1')
    assert row.tenant_id == 't1' and row.flavor_id == '1' and row.volume_size == 2


def test_create_validation_error_is_400_fault(app, recorder):
    status, body = call(app, 'POST', BASE, {'instance': {'name': ''}})
    assert status == 400
    assert body['badRequest']['code'] == 400
    assert body['badRequest']['message'].startswith('Validation error: instance.name')
    status, body = call(app, 'POST', BASE, create_body(volume={'size': 0}))
    assert status == 400 and 'Validation error' in body['badRequest']['message']
    assert recorder.calls == []


def test_create_bad_json_and_non_object(app):
    status, body = call(app, 'POST', BASE, b'{not json')
    assert status == 400 and 'badRequest' in body
    status, body = call(app, 'POST', BASE, b'[1, 2]')
    assert status == 400 and 'JSON object' in body['badRequest']['message']


def test_create_unknown_flavor_404(app):
    status, body = call(app, 'POST', BASE, create_body(flavorRef='42'))
    assert status == 404
    assert body['itemNotFound']['code'] == 404


def test_create_unknown_datastore_404(app):
    status, body = call(app, 'POST', BASE, create_body(datastore={'type': 'oracle'}))
    assert status == 404 and 'itemNotFound' in body


def test_create_user_with_unknown_db_400(app, recorder):
    users = [{'name': 'u1', 'password': 'p', 'databases': [{'name': 'nope'}]}]
    status, body = call(app, 'POST', BASE, create_body(users=users))
    assert status == 400
    assert 'nope' in body['badRequest']['message']
    assert recorder.calls == []


def test_create_volume_rules(app, monkeypatch):
    status, body = call(app, 'POST', BASE, create_body(volume={'size': 500}))
    assert status == 400 and 'larger than' in body['badRequest']['message']
    payload = create_body()
    del payload['instance']['volume']
    status, body = call(app, 'POST', BASE, payload)
    assert status == 400 and 'Volume size' in body['badRequest']['message']


def test_create_unsupported_features_refused(app, recorder):
    # restorePoint is supported now (tests/unit/api/test_backups.py); an
    # unknown backup is a 404 and nothing is built.
    status, body = call(app, 'POST', BASE, create_body(restorePoint={'backupRef': 'b'}))
    assert status == 404 and 'Backup b' in body['itemNotFound']['message']
    # Replicas are supported (test_replicas_api.py): an unknown source is a 400.
    status, body = call(app, 'POST', BASE, create_body(replica_of='abc'))
    assert status == 400 and 'Replica source abc' in body['badRequest']['message']
    status, body = call(app, 'POST', BASE, create_body(locality='affinity'))
    assert status == 501
    assert recorder.calls == []


def test_create_cast_failure_leaves_error_not_build(app, recorder):
    recorder.fail = True
    status, body = call(app, 'POST', BASE, create_body())
    assert status == 503 and 'serviceUnavailable' in body
    (row,) = db_api.list_instances('t1')
    assert db_api.get_task(row) == Task.BUILDING_ERROR_SERVER
    status, shown = call(app, 'GET', '%s/%s' % (BASE, row.id))
    assert shown['instance']['status'] == 'ERROR'
    assert 'taskmanager' in shown['instance']['fault']['message']


def test_list_paginates_with_next_link(app):
    ids = sorted(_create(app, name='db%d' % i)['id'] for i in range(3))
    status, body = call(app, 'GET', BASE + '?limit=2')
    assert status == 200
    assert [i['id'] for i in body['instances']] == ids[:2]
    (link,) = body['links']
    assert link['rel'] == 'next'
    assert link['href'].startswith('http://trove.example:8779/v1.0/t1/instances?')
    assert 'marker=%s' % ids[1] in link['href'] and 'limit=2' in link['href']
    status, body = call(app, 'GET', BASE + '?limit=2&marker=%s' % ids[1])
    assert [i['id'] for i in body['instances']] == ids[2:]
    assert 'links' not in body
    # Behind a TLS proxy the operator names the public endpoint.
    CONF.set_override('public_endpoint', 'https://db.example.com/')
    try:
        (link,) = call(app, 'GET', BASE + '?limit=2')[1]['links']
        assert link['href'].startswith('https://db.example.com/v1.0/t1/instances?')
    finally:
        CONF.clear_override('public_endpoint')


def test_detail_list_has_detail_fields(app):
    _create(app)
    status, body = call(app, 'GET', BASE + '/detail')
    assert status == 200
    assert 'created' in body['instances'][0]
    status, body = call(app, 'GET', BASE)
    assert 'created' not in body['instances'][0]




def test_show_other_tenant_and_name_are_404(app, roles_header):
    inst = _create(app)
    status, body = call(app, 'GET', '/v1.0/t2/instances/%s' % inst['id'], headers=MEMBER)
    assert status == 404 and 'itemNotFound' in body
    status, body = call(app, 'GET', BASE + '/db1')
    assert status == 404
    status, body = call(app, 'GET', '/v1.0/t2/instances')
    assert body == {'instances': []}


def test_delete_in_build_then_again(app, recorder):
    inst = _create(app)
    status, body = call(app, 'DELETE', '%s/%s' % (BASE, inst['id']))
    assert status == 202 and body is None
    assert db_api.get_task(db_api.get_instance(inst['id'])) == Task.DELETING
    status, _ = call(app, 'DELETE', '%s/%s' % (BASE, inst['id']))
    assert status == 202
    deletes = [kw for method, kw in recorder.calls if method == 'delete_instance']
    assert deletes == [{'instance_id': inst['id']}] * 2
    status, body = call(app, 'GET', '%s/%s' % (BASE, inst['id']))
    assert body['instance']['status'] == 'SHUTDOWN'


def test_delete_from_error_state_and_other_tenant(app, roles_header):
    inst = _create(app)
    db_api.set_task(inst['id'], Task.BUILDING_ERROR_TIMEOUT_GA)
    status, _ = call(app, 'DELETE', '/v1.0/t2/instances/%s' % inst['id'], headers=MEMBER)
    assert status == 404
    status, _ = call(app, 'DELETE', '%s/%s' % (BASE, inst['id']))
    assert status == 202


def test_admin_of_another_project_resets_and_deletes_by_id(app, roles_header, recorder):
    """Tempest's class clean-up: the admin's project in the URL, the test's instance."""
    inst = _create(app)
    url = '/v1.0/admin-project/instances/%s' % inst['id']
    assert call(app, 'GET', url)[1]['instance']['id'] == inst['id']
    status, _ = call(app, 'POST', url + '/action', {'reset_status': {}})
    assert status == 202
    assert db_api.get_task(db_api.get_instance(inst['id'])) is Task.NONE
    assert call(app, 'DELETE', url)[0] == 202
    assert db_api.get_task(db_api.get_instance(inst['id'])) is Task.DELETING
    # Lists stay the URL project's.
    assert call(app, 'GET', '/v1.0/admin-project/instances')[1] == {'instances': []}


def test_create_is_one_write_and_answers_what_show_answers(app, recorder, count_writes):
    from trove.db import api as api_module
    from trove.db import quotas as quotas_module
    _create(app, name='warm')          # the project's usage rows exist from here
    writes, quota_writes = count_writes(api_module), count_writes(quotas_module)
    created = _create(app, name='db2')
    # The row, its quota charge and its build request: one transaction.
    assert (len(writes), len(quota_writes)) == (1, 0)
    status, shown = call(app, 'GET', BASE + '/' + created['id'])
    assert status == 200
    shown['instance'].pop('high_availability', None)
    shown['instance'].pop('pitr', None)
    assert created == shown['instance']
