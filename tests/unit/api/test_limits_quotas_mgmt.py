"""Limits, quotas, rate limits, policy and the mgmt API through the paste app."""
import os

import pytest
import webob

from tests.unit.api.conftest import MEMBER, PASTE, call, create_body
from trove.api import app as api_app
from trove.conf import CONF



def test_limits_view(app):
    code, body = call(app, 'GET', '/v1.0/t1/limits')
    assert code == 200
    absolute, *rates = body['limits']
    assert absolute == {'verb': 'ABSOLUTE', 'max_instances': 10, 'max_volumes': 40,
                        'max_backups': 50, 'max_ram': -1}
    assert [(r['verb'], r['uri']) for r in rates] == [
        ('POST', '*'), ('PUT', '*'), ('DELETE', '*'), ('GET', '*'), ('POST', '*/mgmt')]
    get = rates[3]
    assert get['value'] == 200 and get['unit'] == 'MINUTE' and get['regex'] == '.*'
    assert get['remaining'] == 199          # this very GET counted
    assert rates[0]['remaining'] == 200
    assert get['nextAvailable'].endswith('Z')


def test_rate_limit_413_with_retry_after(db, recorder):
    CONF.set_override('http_get_rate', 2)
    try:
        app = api_app.load_app(os.path.abspath(PASTE))
    finally:
        CONF.clear_override('http_get_rate')
    assert call(app, 'GET', '/v1.0/t1/instances')[0] == 200
    assert call(app, 'GET', '/v1.0/t1/flavors')[0] == 200
    req = webob.Request.blank('/v1.0/t1/instances')
    resp = req.get_response(app)
    assert resp.status_int == 413
    fault = resp.json['overLimit']
    assert fault['code'] == 413 and int(fault['retryAfter']) >= 1
    assert resp.headers['Retry-After'] == fault['retryAfter']
    # Per project: another tenant and other verbs are not affected.
    assert call(app, 'GET', '/v1.0/t2/instances')[0] == 200
    assert call(app, 'POST', '/v1.0/t1/instances', create_body())[0] == 200
    assert recorder.calls and recorder.calls[0][0] == 'create_instance'


def test_quota_exceeded_on_create_creates_nothing(app, recorder):
    assert call(app, 'PUT', '/v1.0/t1/mgmt/quotas/t1', {'quotas': {'instances': 1}}) == (
        200, {'quotas': {'instances': 1}})
    code, first = call(app, 'POST', '/v1.0/t1/instances', create_body())
    assert code == 200
    code, body = call(app, 'POST', '/v1.0/t1/instances', create_body(name='db2'))
    assert code == 413
    assert body == {'overLimit': {'code': 413, 'message':
                                  "Quota exceeded for resources: ['instances']."}}
    assert len(call(app, 'GET', '/v1.0/t1/instances')[1]['instances']) == 1
    assert len(recorder.calls) == 1
    code, body = call(app, 'GET', '/v1.0/t1/mgmt/quotas/t1')
    usage = {q['resource']: q for q in body['quotas']}
    assert usage['instances'] == {'resource': 'instances', 'in_use': 1, 'reserved': 0,
                                  'limit': 1}
    assert usage['volumes']['in_use'] == 1 and usage['ram']['in_use'] == 512
    # Deleting gives the quota back at API time; a repeated delete does not.
    assert call(app, 'DELETE', '/v1.0/t1/instances/%s' % first['instance']['id'])[0] == 202
    assert call(app, 'DELETE', '/v1.0/t1/instances/%s' % first['instance']['id'])[0] == 202
    usage = {q['resource']: q for q in call(app, 'GET', '/v1.0/t1/mgmt/quotas/t1')[1]['quotas']}
    assert usage['instances']['in_use'] == 0 and usage['volumes']['in_use'] == 0
    assert call(app, 'POST', '/v1.0/t1/instances', create_body(name='db3'))[0] == 200


def test_volume_quota(app):
    call(app, 'PUT', '/v1.0/t1/mgmt/quotas/t1', {'quotas': {'volumes': 2}})
    body = create_body()
    body['instance']['volume'] = {'size': 3}
    code, fault = call(app, 'POST', '/v1.0/t1/instances', body)
    assert code == 413 and "['volumes']" in fault['overLimit']['message']


def test_quota_update_validation(app):
    assert call(app, 'PUT', '/v1.0/t1/mgmt/quotas/t1', {'quotas': {'instances': 'x'}})[0] == 400
    assert call(app, 'PUT', '/v1.0/t1/mgmt/quotas/t1', {'quotas': {'cores': 3}})[0] == 404
    assert call(app, 'PUT', '/v1.0/t1/mgmt/quotas/t1', {'quotas': {}})[0] == 400


def test_non_admin_quota_rules(app, roles_header):
    assert call(app, 'GET', '/v1.0/t1/mgmt/quotas/t1', headers=MEMBER)[0] == 200
    code, body = call(app, 'GET', '/v1.0/t1/mgmt/quotas/t2', headers=MEMBER)
    assert code == 403 and body['forbidden']['code'] == 403
    code, _ = call(app, 'PUT', '/v1.0/t1/mgmt/quotas/t1', {'quotas': {'instances': 99}},
                   headers=MEMBER)
    assert code == 403
    assert call(app, 'GET', '/v1.0/t1/limits', headers=MEMBER)[1]['limits'][0][
        'max_instances'] == 10


@pytest.mark.parametrize('method,path', [
    ('GET', '/mgmt/instances'), ('GET', '/mgmt/instances/x'),
    ('GET', '/mgmt/datastore-versions'), ('DELETE', '/mgmt/datastore-versions/x'),
    ('GET', '/mgmt/datastores/versions/x/parameters'),
])
def test_mgmt_is_admin_only(app, roles_header, method, path):
    code, body = call(app, method, '/v1.0/t1' + path, headers=MEMBER)
    assert code == 403, body
    assert 'forbidden' in body


def test_roles_header_ignored_unless_enabled(app):
    assert call(app, 'GET', '/v1.0/t1/mgmt/instances', headers=MEMBER)[0] == 200


def test_tenant_isolation(app, roles_header):
    code, body = call(app, 'POST', '/v1.0/t1/instances', create_body(), headers=MEMBER)
    iid = body['instance']['id']
    for method in ('GET', 'DELETE'):
        assert call(app, method, '/v1.0/t2/instances/%s' % iid, headers=MEMBER)[0] == 404
    assert call(app, 'GET', '/v1.0/t2/instances', headers=MEMBER)[1]['instances'] == []
    # The admin sees every project through mgmt.
    code, body = call(app, 'GET', '/v1.0/t2/mgmt/instances')
    assert [(i['id'], i['tenant_id']) for i in body['instances']] == [(iid, 't1')]
    code, body = call(app, 'GET', '/v1.0/t2/mgmt/instances/%s' % iid)
    assert code == 200 and body['instance']['deleted'] is False


def test_mgmt_instances_deleted_filter(app):
    iid = call(app, 'POST', '/v1.0/t1/instances', create_body())[1]['instance']['id']
    from trove.db import api as db_api
    db_api.purge_instance(iid)
    assert call(app, 'GET', '/v1.0/t1/mgmt/instances?deleted=false')[1]['instances'] == []
    body = call(app, 'GET', '/v1.0/t1/mgmt/instances?deleted=true')[1]
    assert [i['id'] for i in body['instances']] == [iid]
    assert call(app, 'GET', '/v1.0/t1/mgmt/instances/%s' % iid)[0] == 404
    assert call(app, 'GET', '/v1.0/t1/mgmt/instances/%s?deleted=true' % iid)[0] == 200


def test_mgmt_datastore_versions(app):
    new = {'version': {'name': '16', 'datastore_name': 'postgresql',
                       'datastore_manager': 'postgresql', 'image': '',
                       'packages': ['postgresql-16'], 'active': True, 'default': True}}
    assert call(app, 'POST', '/v1.0/t1/mgmt/datastore-versions', new) == (202, None)
    assert call(app, 'POST', '/v1.0/t1/mgmt/datastore-versions', new)[0] == 400
    versions = call(app, 'GET', '/v1.0/t1/mgmt/datastore-versions')[1]['versions']
    pg = next(v for v in versions if v['datastore_name'] == 'postgresql')
    assert pg['default'] is True and pg['packages'] == ['postgresql-16']
    assert pg['datastore_manager'] == 'postgresql'
    code, _ = call(app, 'PATCH', '/v1.0/t1/mgmt/datastore-versions/%s' % pg['id'],
                   {'active': False, 'image_tags': ['a', 'b']})
    assert code == 202
    shown = call(app, 'GET', '/v1.0/t1/mgmt/datastore-versions/%s' % pg['id'])[1]['version']
    assert shown['active'] is False and shown['image_tags'] == ['a', 'b']
    assert call(app, 'PATCH', '/v1.0/t1/mgmt/datastore-versions/%s' % pg['id'],
                {'bogus': 1})[0] == 400
    assert call(app, 'DELETE', '/v1.0/t1/mgmt/datastore-versions/%s' % pg['id'])[0] == 202
    assert call(app, 'GET', '/v1.0/t1/mgmt/datastore-versions/%s' % pg['id'])[0] == 404


def test_mgmt_version_in_use_not_deleted(app):
    call(app, 'POST', '/v1.0/t1/instances', create_body())
    versions = call(app, 'GET', '/v1.0/t1/mgmt/datastore-versions')[1]['versions']
    code, body = call(app, 'DELETE', '/v1.0/t1/mgmt/datastore-versions/%s' % versions[0]['id'])
    assert code == 409 and 'conflict' in body


def test_mgmt_parameters(app):
    vid = call(app, 'GET', '/v1.0/t1/mgmt/datastore-versions')[1]['versions'][0]['id']
    base = '/v1.0/t1/mgmt/datastores/versions/%s/parameters' % vid
    param = {'configuration-parameter': {'name': 'max_widgets', 'data_type': 'integer',
                                         'restart_required': 0, 'min': 1, 'max': 10}}
    code, body = call(app, 'POST', base, param)
    assert code == 200
    assert body['configuration-parameter'] == {
        'name': 'max_widgets', 'datastore_version_id': vid, 'restart_required': False,
        'type': 'integer', 'min': 1, 'max': 10}
    assert call(app, 'POST', base, param)[0] == 400
    param['configuration-parameter'].update(restart_required=1, max=20)
    assert call(app, 'PUT', base + '/max_widgets', param)[1][
        'configuration-parameter']['max'] == 20
    assert call(app, 'GET', base + '/max_widgets')[1]['restart_required'] is True
    names = [p['name'] for p in call(app, 'GET', base)[1]['configuration-parameters']]
    assert 'max_widgets' in names
    assert call(app, 'DELETE', base + '/max_widgets') == (204, None)
    assert call(app, 'GET', base + '/max_widgets')[0] == 404
    assert call(app, 'DELETE', base + '/max_widgets')[0] == 404
    bad = {'configuration-parameter': {'name': 'x', 'data_type': 'blob',
                                       'restart_required': 0}}
    assert call(app, 'POST', base, bad)[0] == 400
    assert call(app, 'GET', '/v1.0/t1/mgmt/datastores/versions/nope/parameters')[0] == 404


def test_limiter_drains_over_time():
    from trove.api import ratelimit
    now = [0.0]
    limiter = ratelimit.Limiter([ratelimit.Limit('GET', '*', '.*', 2)],
                                clock=lambda: now[0], wall=lambda: 1000.0)
    assert limiter.check('p', 'GET', '/x') is None
    assert limiter.check('p', 'GET', '/x') is None
    assert limiter.check('p', 'GET', '/x') == pytest.approx(30.0)   # 1 unit per 30 s
    assert limiter.check('p', 'POST', '/x') is None                 # no POST limit
    assert limiter.view('p')[0]['remaining'] == 0
    assert limiter.view('p')[0]['nextAvailable'] == '1970-01-01T00:17:10Z'
    now[0] = 30.0
    assert limiter.view('p')[0]['remaining'] == 1
    assert limiter.check('p', 'GET', '/x') is None
    mgmt = ratelimit.Limit('POST', '*/mgmt', '^/mgmt', 1)
    assert mgmt.applies('POST', '/mgmt/quotas/x') and not mgmt.applies('POST', '/instances')
