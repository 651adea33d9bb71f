"""The read-only Nova/Cinder endpoints Horizon's Launch Instance reads
(trove/api/compute_catalog.py), through the real paste file."""
import os

import pytest
import webob
from keystonemiddleware import auth_token  # noqa: F401 (registers [keystone_authtoken])
from keystonemiddleware import fixture as ks_fixture

from tests.unit.api.conftest import PASTE, call
from trove.api import app as api_app
from trove.api.controllers import flavors
from trove.conf import CONF


def test_flavors_detail_is_the_trove_flavor_source(app):
    status, body = call(app, 'GET', '/compute/v2.1/flavors/detail')
    assert status == 200
    wanted = {(f.id, f.name, f.ram, f.vcpus, f.disk) for f in flavors.get_compute().list_flavors()}
    got = {(f['id'], f['name'], f['ram'], f['vcpus'], f['disk']) for f in body['flavors']}
    assert got == wanted
    small = [f for f in body['flavors'] if f['id'] == 'small'][0]
    assert small['links'][0]['href'] == 'http://trove.example:8779/compute/v2.1/flavors/small'
    assert small['os-flavor-access:is_public'] is True


def test_one_flavor_with_and_without_project(app):
    for prefix in ('/compute/v2.1', '/compute/v2.1/p-alice'):
        status, body = call(app, 'GET', prefix + '/flavors/small')
        assert status == 200 and body['flavor']['ram'] == 2048
        assert body['flavor']['links'][0]['href'].endswith(prefix + '/flavors/small')
    status, body = call(app, 'GET', '/compute/v2.1/flavors/nope')
    assert status == 404 and body['itemNotFound']['code'] == 404


def test_one_availability_zone(app):
    status, body = call(app, 'GET', '/compute/v2.1/os-availability-zone')
    assert status == 200
    assert body == {'availabilityZoneInfo': [
        {'zoneName': 'nova', 'zoneState': {'available': True}, 'hosts': None}]}


def test_volume_types_are_the_drivers(app, monkeypatch):
    status, body = call(app, 'GET', '/volume/v3/p-alice/types')
    assert status == 200 and body == {'volume_types': []}
    typed = type('Typed', (), {'list_volume_types': lambda self: [
        {'id': 't1', 'name': 'ssd', 'description': 'fast'}]})
    monkeypatch.setattr(flavors, 'get_compute', typed)
    status, body = call(app, 'GET', '/volume/v3/types')
    assert status == 200 and [t['name'] for t in body['volume_types']] == ['ssd']
    assert body['volume_types'][0]['id'] == 't1'


def test_version_documents(app):
    status, body = call(app, 'GET', '/compute/')
    assert status == 200 and body['versions'][0]['id'] == 'v2.1'
    status, body = call(app, 'GET', '/compute/v2.1')
    assert status == 200 and body['version']['version'] == '2.1'
    status, body = call(app, 'GET', '/volume/v3/')
    assert status == 200 and body['version']['id'] == 'v3'


@pytest.mark.parametrize('method,path', [
    ('POST', '/compute/v2.1/flavors/detail'), ('DELETE', '/compute/v2.1/flavors/1'),
    ('PUT', '/volume/v3/p/types'), ('POST', '/compute/v2.1/os-availability-zone')])
def test_writes_are_refused_and_change_nothing(app, method, path):
    before = call(app, 'GET', '/compute/v2.1/flavors/detail')[1]
    req = webob.Request.blank(path, method=method, body=b'{"flavor": {"name": "x"}}')
    resp = req.get_response(app)
    assert resp.status_int == 405
    assert 'GET' in resp.headers['Allow']
    assert resp.json['badMethod']['code'] == 405
    assert call(app, 'GET', '/compute/v2.1/flavors/detail')[1] == before


def test_with_the_nova_driver_nothing_is_served(app):
    CONF.set_override('compute_driver', 'nova')
    try:
        for path in ('/compute/v2.1/flavors/detail', '/compute/v2.1/os-availability-zone',
                     '/volume/v3/p/types'):
            status, body = call(app, 'GET', path)
            assert status == 404, path
            assert "cloud's own" in body['itemNotFound']['message']
    finally:
        CONF.clear_override('compute_driver')
    status, _ = call(app, 'GET', '/compute/v2.1/flavors/detail')
    assert status == 200


def test_unknown_paths_are_404(app):
    # Only the reads Horizon makes exist: not even Nova's other flavor reads.
    for path in ('/compute/v2.1/servers', '/compute/v2.1/p/servers/detail', '/volume/v3/p/volumes',
                 '/compute/v2', '/compute/v2.1/flavors', '/compute/v2.1/flavors/1/os-extra_specs',
                 '/volume/v3/p/types/default', '/compute/v2.1/limits'):
        status, body = call(app, 'GET', path)
        assert status == 404, path


@pytest.fixture
def keystone_app(app):
    fx = ks_fixture.AuthTokenFixture()
    fx.setUp()
    fx.add_token_data(token_id='member-token', user_id='alice', project_id='p-alice',
                      role_list=['member'])
    CONF.set_override('api_pipeline', 'trove')
    CONF.set_override('www_authenticate_uri', 'http://keystone.test/v3',
                      group='keystone_authtoken')
    try:
        yield api_app.load_app(os.path.abspath(PASTE))
    finally:
        CONF.clear_override('api_pipeline')
        CONF.clear_override('www_authenticate_uri', group='keystone_authtoken')
        fx.cleanUp()


def test_keystone_pipeline_needs_a_token(keystone_app):
    for path in ('/compute/v2.1/flavors/detail', '/volume/v3/p-alice/types'):
        status, _ = call(keystone_app, 'GET', path)
        assert status == 401, path
        status, _ = call(keystone_app, 'GET', path, headers={'X-Auth-Token': 'member-token'})
        assert status == 200, path
