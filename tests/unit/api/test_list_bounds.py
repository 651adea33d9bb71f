"""Every list of a request is bounded so one guest call stays short (issue 8, item 7)."""
import pytest

from tests.unit.api.conftest import call, create_body
from tests.unit.api.test_users_databases import base, guest  # noqa: F401 - fixtures
from trove.api import wsgi
from trove.api.schemas import configurations as config_schemas
from trove.api.schemas import instances as bounds
from trove.common import exception


def _dbs(n):
    return [{'name': 'd%d' % i} for i in range(n)]


def _users(n, dbs_each=0):
    return [{'name': 'u%d' % i, 'password': 'pw-%d' % i,
             'databases': [{'name': 'd%d' % j} for j in range(dbs_each)]} for i in range(n)]


def _refused(status, body, guest):  # noqa: F811 - the fixture passed on
    assert status == 400 and 'badRequest' in body, body
    assert guest.calls == []


def test_databases_bounded(app, guest, base):  # noqa: F811
    status, body = call(app, 'POST', base + '/databases',
                        {'databases': _dbs(bounds.MAX_DATABASES + 1)})
    _refused(status, body, guest)
    assert call(app, 'POST', base + '/databases',
                {'databases': _dbs(bounds.MAX_DATABASES)})[0] == 202
    assert len(guest.engine.dbs) == bounds.MAX_DATABASES


def test_users_bounded(app, guest, base):  # noqa: F811
    status, body = call(app, 'POST', base + '/users', {'users': _users(bounds.MAX_USERS + 1)})
    _refused(status, body, guest)
    status, body = call(app, 'PUT', base + '/users', {'users': _users(bounds.MAX_USERS + 1)})
    _refused(status, body, guest)


def test_grants_bounded_per_user_and_per_request(app, guest, base):  # noqa: F811
    status, body = call(app, 'PUT', base + '/users/u0/databases',
                        {'databases': _dbs(bounds.MAX_USER_DATABASES + 1)})
    _refused(status, body, guest)
    # 5 users with 5 databases each: every list is short, 25 grants are not.
    status, body = call(app, 'POST', base + '/users', {'users': _users(5, dbs_each=5)})
    _refused(status, body, guest)
    assert 'grants' in body['badRequest']['message']


def test_long_strings_refused(app, guest, base):  # noqa: F811
    status, body = call(app, 'POST', base + '/users', {'users': [
        {'name': 'u', 'password': 'p', 'host': 'h' * 256}]})
    _refused(status, body, guest)


def test_instance_create_lists_bounded(app, recorder):
    for field, value in (('databases', _dbs(bounds.MAX_DATABASES + 1)),
                         ('users', _users(bounds.MAX_USERS + 1)),
                         ('access', {'allowed_cidrs': ['10.0.0.0/8'] * (bounds.MAX_CIDRS + 1)}),
                         ('availability_zone', 'z' * 256)):
        status, body = call(app, 'POST', '/v1.0/t1/instances', create_body(**{field: value}))
        assert status == 400 and 'badRequest' in body, field
    assert recorder.calls == []
    assert call(app, 'GET', '/v1.0/t1/instances')[1]['instances'] == []


def test_configuration_values_bounded():
    # The catalogue refuses unknown keys too; the bound keeps a huge object
    # from reaching that per-key check at all.
    body = {'configuration': {'name': 'g', 'values': {'p%d' % i: 1 for i in range(101)}}}
    with pytest.raises(exception.BadRequest):
        wsgi.validate(config_schemas.create, body)
    body['configuration']['values'] = {'p%d' % i: 1 for i in range(100)}
    wsgi.validate(config_schemas.create, body)


def test_mgmt_version_strings_bounded(app):
    new = {'version': {'name': '16', 'datastore_name': 'postgresql',
                       'datastore_manager': 'postgresql', 'image': 'i' * 256}}
    assert call(app, 'POST', '/v1.0/t1/mgmt/datastore-versions', new)[0] == 400
    new['version'].update(image='', image_tags=['t%02d' % i for i in range(20)] + ['x' * 64])
    assert call(app, 'POST', '/v1.0/t1/mgmt/datastore-versions', new)[0] == 400
    new['version']['image_tags'] = ['x' * 60] * 5
    status, body = call(app, 'POST', '/v1.0/t1/mgmt/datastore-versions', new)
    assert status == 400 and 'joined' in body['badRequest']['message']
    versions = call(app, 'GET', '/v1.0/t1/mgmt/datastore-versions')[1]['versions']
    assert [v['datastore_name'] for v in versions] == ['mariadb']


def test_root_body_optional_but_validated(app, guest, base):  # noqa: F811
    status, body = call(app, 'POST', base + '/root', {'password': 5})
    _refused(status, body, guest)
    status, body = call(app, 'POST', base + '/root')
    assert status == 200 and body['user']['name'] == 'root'
