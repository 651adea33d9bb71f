"""Fixtures of the API tests: the paste-built app, a fake compute, a TM recorder."""
import json
import os

import pytest
import webob

from trove.api import app as api_app
from trove.api.controllers import flavors, instances
from trove.common import exception
from trove.conf import CONF

PASTE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'etc', 'trove',
                     'api-paste.ini')


class FakeFlavor:
    def __init__(self, id, name, ram=512, vcpus=1, disk=0, ephemeral=0):
        self.id, self.name, self.ram = id, name, ram
        self.vcpus, self.disk, self.ephemeral = vcpus, disk, ephemeral

    def to_dict(self):
        return dict(id=self.id, name=self.name, ram=self.ram, vcpus=self.vcpus,
                    disk=self.disk, ephemeral=self.ephemeral)


class FakeCompute:
    flavors = [FakeFlavor('1', 'm1.tiny'), FakeFlavor('small', 'm1.small', ram=2048)]

    def list_flavors(self):
        return list(self.flavors)

    def get_flavor(self, flavor_id):
        for flavor in self.flavors:
            if flavor.id == str(flavor_id):
                return flavor
        raise exception.FlavorNotFound(uuid=flavor_id)

    def list_volume_types(self):
        return []


class Recorder:
    """Stands in for TaskManagerAPI and records every cast."""

    def __init__(self):
        self.calls = []
        self.fail = False

    def _record(self, method, kwargs):
        if self.fail:
            raise RuntimeError('broker down')
        self.calls.append((method, kwargs))

    def create_instance(self, **kwargs):
        self._record('create_instance', kwargs)

    def delete_instance(self, **kwargs):
        self._record('delete_instance', kwargs)


@pytest.fixture
def recorder(monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(instances, 'get_taskmanager', lambda ctx: rec)
    monkeypatch.setattr(flavors, 'get_compute', FakeCompute)
    return rec


@pytest.fixture
def app(db, recorder):
    return api_app.load_app(os.path.abspath(PASTE))


def call(app, method, path, body=None, headers=None):
    """Send a request; returns (status, parsed JSON body or None)."""
    req = webob.Request.blank(path, method=method, headers=headers or {})
    req.host = 'trove.example:8779'
    if body is not None:
        req.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        req.content_type = 'application/json'
    resp = req.get_response(app)
    return resp.status_int, (json.loads(resp.body) if resp.body else None)


def create_body(**overrides):
    body = {'name': 'db1', 'flavorRef': '1', 'volume': {'size': 1, 'type': None},
            'datastore': {'type': 'mariadb', 'version': '10.11'},
            'databases': [{'name': 'd1'}],
            'users': [{'name': 'u1', 'password': 'pw1', 'databases': [{'name': 'd1'}]}],
            'nics': [{'network_id': 'net'}], 'access': {'is_public': False}}
    body.update(overrides)
    return {'instance': body}


MEMBER = {'X-Roles': 'member'}


@pytest.fixture
def roles_header():
    """Let a request's X-Roles decide its roles (noauth callers are admins)."""
    CONF.set_override('noauth_trust_roles_header', True)
    yield
    CONF.clear_override('noauth_trust_roles_header')
