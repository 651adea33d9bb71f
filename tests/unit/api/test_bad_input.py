"""Bad or unusual input gets a 4xx in trove's fault format, never a 500 (issue 8)."""
import webob

from tests.unit.api.conftest import call, create_body
from trove.api import wsgi
from trove.db import api as db_api
from trove.db import datastores, models
from trove.db.session import reader

BASE = '/v1.0/t1'
VERSIONS = BASE + '/mgmt/datastore-versions'


def _fault(body, code):
    name = wsgi.fault_name(code)
    assert set(body) == {name}, body
    assert body[name]['code'] == code and body[name]['message']


def test_mgmt_version_list_with_two_versions_of_one_datastore(app):
    datastores.version_update('mariadb', '11.4', 'mariadb')
    code, body = call(app, 'GET', VERSIONS)
    assert code == 200
    names = sorted((v['datastore_name'], v['name']) for v in body['versions'])
    assert names == [('mariadb', '10.11'), ('mariadb', '11.4')]


def _version_id(app, name):
    versions = call(app, 'GET', VERSIONS)[1]['versions']
    return next(v['id'] for v in versions if v['name'] == name)


def test_version_used_by_deleted_instance_is_deleted(app):
    iid = call(app, 'POST', BASE + '/instances', create_body())[1]['instance']['id']
    vid = _version_id(app, '10.11')
    db_api.purge_instance(iid)
    code, body = call(app, 'DELETE', VERSIONS + '/' + vid)
    assert code == 202, body
    assert call(app, 'GET', VERSIONS + '/' + vid)[0] == 404
    # The deleted instance stays visible to admins, without a version.
    code, body = call(app, 'GET', BASE + '/mgmt/instances/%s?deleted=true' % iid)
    assert code == 200 and body['instance']['datastore']['version'] is None


def test_version_used_by_deleted_configuration_is_deleted(app):
    vid = _version_id(app, '10.11')
    group = {'configuration': {'name': 'g', 'values': {},
                               'datastore': {'type': 'mariadb', 'version': '10.11'}}}
    code, body = call(app, 'POST', BASE + '/configurations', group)
    assert code == 200, body
    gid = body['configuration']['id']
    assert call(app, 'DELETE', VERSIONS + '/' + vid)[0] == 409
    assert call(app, 'DELETE', BASE + '/configurations/' + gid)[0] == 202
    assert call(app, 'DELETE', VERSIONS + '/' + vid)[0] == 202
    with reader() as session:
        assert session.get(models.Configuration, gid) is None


def test_version_in_use_refused_and_kept(app):
    call(app, 'POST', BASE + '/instances', create_body())
    vid = _version_id(app, '10.11')
    code, body = call(app, 'DELETE', VERSIONS + '/' + vid)
    assert code == 409
    _fault(body, 409)
    assert call(app, 'GET', VERSIONS + '/' + vid)[0] == 200


def _nested(depth):
    return ('{"a": ' * depth + '1' + '}' * depth).encode()


def test_deeply_nested_body_is_400(app):
    for depth in (40, 1000, 100000):
        code, body = call(app, 'POST', BASE + '/instances', _nested(depth))
        assert code == 400, depth
        _fault(body, 400)
        assert 'nested' in body['badRequest']['message']
    assert call(app, 'GET', BASE + '/instances')[1]['instances'] == []


def test_depth_counts_lists_and_objects():
    assert wsgi.body_depth(1) == 0
    assert wsgi.body_depth({'a': [{'b': 1}]}) == 3
    assert wsgi.body_depth({'a': {}, 'b': {'c': {}}}) == 3


def test_huge_body_is_413(app):
    big = b'{"instance": {"name": "' + b'x' * (wsgi.MAX_BODY_BYTES + 1) + b'"}}'
    code, body = call(app, 'POST', BASE + '/instances', big)
    assert code == 413
    _fault(body, 413)


def test_unexpected_exception_is_a_logged_500_fault(caplog):
    class Broken:
        def index(self, req, tenant_id):
            raise KeyError('secret-password')

    resp = wsgi.Resource(Broken())(webob.Request.blank('/t1/x'), 'index', {'tenant_id': 't'})
    assert resp.status_int == 500
    body = resp.json
    _fault(body, 500)
    assert 'secret-password' not in resp.text
    assert 'Unhandled error' in caplog.text


def test_bad_limit_is_400(app):
    for query in ('limit=-1', 'limit=abc', 'limit=1e40', 'limit=0', 'limit=1.5',
                  'limit=%EF%BC%91', 'marker=' + 'x' * 300, 'marker=%00'):
        code, body = call(app, 'GET', BASE + '/instances?' + query)
        assert code == 400, query
        _fault(body, 400)
    assert call(app, 'GET', BASE + '/instances?limit=5')[0] == 200
    assert call(app, 'GET', BASE + '/instances?limit=')[0] == 200
    assert call(app, 'GET', BASE + '/instances?limit=99999999')[0] == 200


def test_bad_backup_marker_is_400(app):
    for marker in ('-1', 'abc', '99999999999999999999'):
        code, body = call(app, 'GET', BASE + '/backups?marker=' + marker)
        assert code == 400, marker
        _fault(body, 400)
    assert call(app, 'GET', BASE + '/backups?marker=2')[0] == 200


def test_405_on_instances_detail_allows_only_get(app):
    for method in ('POST', 'PUT', 'PATCH', 'DELETE'):
        req = webob.Request.blank(BASE + '/instances/detail', method=method)
        resp = req.get_response(app)
        assert resp.status_int == 405, method
        assert resp.headers['Allow'] == 'GET'
        _fault(resp.json, 405)

