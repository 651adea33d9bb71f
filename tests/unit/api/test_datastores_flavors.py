"""Datastore, version and flavor views."""
from trove.db import datastores

from tests.unit.api.conftest import call


def test_datastore_list_and_show(app):
    status, body = call(app, 'GET', '/v1.0/t1/datastores')
    assert status == 200
    (ds,) = body['datastores']
    assert ds['name'] == 'mariadb'
    (ver,) = ds['versions']
    assert ds['default_version'] == ver['id']
    assert ver['name'] == '10.11' and ver['active'] is True and ver['version'] == '10.11'
    assert ds['links'][0]['href'] == 'https://trove.example:8779/v1.0/t1/datastores/%s' % (
        ds['id'])
    assert ver['links'][1]['href'] == (
        'https://trove.example:8779/datastores/versions/%s' % ver['id'])
    for key in (ds['id'], 'mariadb'):
        status, body = call(app, 'GET', '/v1.0/t1/datastores/%s' % key)
        assert status == 200 and body['datastore']['id'] == ds['id']
    status, body = call(app, 'GET', '/v1.0/t1/datastores/nosuch')
    assert status == 404 and 'itemNotFound' in body


def test_versions_by_name_id_and_uuid(app):
    status, body = call(app, 'GET', '/v1.0/t1/datastores/mariadb/versions')
    (ver,) = body['versions']
    assert ver['datastore'] and 'manager' not in ver and 'image' in ver
    for key in ('10.11', ver['id']):
        status, body = call(app, 'GET', '/v1.0/t1/datastores/mariadb/versions/%s' % key)
        assert status == 200 and body['version']['id'] == ver['id']
    status, body = call(app, 'GET', '/v1.0/t1/datastores/versions/%s' % ver['id'])
    assert status == 200 and body['version']['name'] == '10.11'
    status, body = call(app, 'GET', '/v1.0/t1/datastores/versions/nope')
    assert status == 404


def test_inactive_version_hidden_from_non_admin(app):
    from trove.conf import CONF
    datastores.version_update('mariadb', '10.6', 'mariadb', active=False)
    _, body = call(app, 'GET', '/v1.0/t1/datastores')
    assert len(body['datastores'][0]['versions']) == 2
    CONF.set_override('noauth_roles', ['member'])
    try:
        _, body = call(app, 'GET', '/v1.0/t1/datastores')
        assert [v['name'] for v in body['datastores'][0]['versions']] == ['10.11']
        status, _ = call(app, 'GET', '/v1.0/t1/datastores/mariadb/versions/10.6')
        assert status == 404
        status, body = call(app, 'POST', '/v1.0/t1/instances', {'instance': {
            'name': 'x', 'flavorRef': 1, 'volume': {'size': 1},
            'datastore': {'type': 'mariadb', 'version': '10.6'}}})
        assert status == 400 and 'not active' in body['badRequest']['message']
    finally:
        CONF.clear_override('noauth_roles')


def test_flavor_list_and_show(app):
    status, body = call(app, 'GET', '/v1.0/t1/flavors')
    assert status == 200
    tiny, small = body['flavors']
    assert tiny['id'] == 1 and tiny['str_id'] == '1' and tiny['ram'] == 512
    assert small['id'] is None and small['str_id'] == 'small'
    assert set(tiny) == {'id', 'str_id', 'name', 'ram', 'vcpus', 'disk', 'ephemeral',
                         'links'}
    assert tiny['links'][0]['href'] == 'https://trove.example:8779/v1.0/t1/flavors/1'
    status, body = call(app, 'GET', '/v1.0/t1/flavors/small')
    assert status == 200 and body['flavor']['name'] == 'm1.small'
    status, body = call(app, 'GET', '/v1.0/t1/flavors/99')
    assert status == 404 and 'itemNotFound' in body


def test_flavors_of_a_version(app):
    status, body = call(app, 'GET', '/v1.0/t1/datastores/mariadb/versions/10.11/flavors')
    assert status == 200 and len(body['flavors']) == 2
    status, _ = call(app, 'GET', '/v1.0/t1/datastores/mariadb/versions/9/flavors')
    assert status == 404


class TypedCompute:
    """A compute driver with Cinder-like volume types."""

    def list_volume_types(self):
        return [{'id': 'vt-1', 'name': 'lvmdriver-1', 'description': None, 'is_public': True},
                {'id': 'vt-2', 'name': 'fast-ssd', 'description': 'NVMe', 'is_public': False}]


def test_volume_types_proxied_from_the_compute_driver(app, monkeypatch):
    from trove.api.controllers import flavors
    monkeypatch.setattr(flavors, 'get_compute', TypedCompute)
    status, body = call(app, 'GET', '/v1.0/t1/volume-types')
    assert status == 200
    assert body == {'volume_types': [
        {'id': 'vt-1', 'name': 'lvmdriver-1', 'description': None, 'is_public': True},
        {'id': 'vt-2', 'name': 'fast-ssd', 'description': 'NVMe', 'is_public': False}]}
    for key in ('vt-2', 'fast-ssd'):
        status, body = call(app, 'GET', '/v1.0/t1/volume-types/%s' % key)
        assert status == 200 and body['volume_type']['id'] == 'vt-2'
    status, body = call(app, 'GET', '/v1.0/t1/volume-types/nope')
    assert status == 404 and 'nope' in body['itemNotFound']['message']
    status, body = call(app, 'GET', '/v1.0/t1/datastores/mariadb/versions/10.11/volume-types')
    assert status == 200 and [t['name'] for t in body['volume_types']] == [
        'lvmdriver-1', 'fast-ssd']
    status, body = call(app, 'GET', '/v1.0/t1/datastores/mariadb/versions/9.9/volume-types')
    assert status == 404


def test_local_driver_has_no_volume_types(app, tmp_path, monkeypatch):
    from trove.api.controllers import flavors
    from trove.compute import local
    monkeypatch.setattr(flavors, 'get_compute', lambda: local.LocalDriver(base_dir=str(tmp_path)))
    status, body = call(app, 'GET', '/v1.0/t1/volume-types')
    assert status == 200 and body == {'volume_types': []}
    status, body = call(app, 'GET', '/v1.0/t1/volume-types/lvmdriver-1')
    assert status == 404


def test_delete_datastore_only_without_versions(app):
    from trove.conf import CONF
    status, body = call(app, 'DELETE', '/v1.0/t1/datastores/mariadb')
    assert status == 400 and 'versions exist' in body['badRequest']['message']
    assert call(app, 'GET', '/v1.0/t1/datastores/mariadb')[0] == 200
    datastores.datastore_update('emptyds')
    CONF.set_override('noauth_roles', ['member'])
    try:
        status, body = call(app, 'DELETE', '/v1.0/t1/datastores/emptyds')
    finally:
        CONF.clear_override('noauth_roles')
    assert status == 403
    status, body = call(app, 'DELETE', '/v1.0/t1/datastores/emptyds')
    assert status == 202 and body is None
    assert call(app, 'GET', '/v1.0/t1/datastores/emptyds')[0] == 404
    assert call(app, 'DELETE', '/v1.0/t1/datastores/emptyds')[0] == 404
