"""The production ``trove`` pipeline against a real Keystone.

keystonemiddleware's authtoken validates real fernet tokens with Keystone,
and KeystoneContext checks the URL tenant against the token's project.
Only the API daemon runs: no RPC is involved in these requests.
"""
import json
import os
import urllib.error
import urllib.request

import pytest

from tests.functional.keystone_server import ADMIN_PASSWORD, Keystone
from tests.functional.stack import Stack


class KeystoneStack(Stack):
    """A Stack whose API uses the ``trove`` pipeline against ``keystone``."""

    def __init__(self, keystone):
        self.keystone = keystone
        super().__init__()

    def _config(self, usage_timeout, address_prefix):
        ks = self.keystone
        return super()._config(usage_timeout, address_prefix) + '\n'.join([
            '[DEFAULT]', 'api_pipeline = trove',
            '[keystone_authtoken]',
            'www_authenticate_uri = %s' % ks.url, 'auth_url = %s' % ks.url,
            'auth_type = password', 'username = admin', 'password = %s' % ADMIN_PASSWORD,
            'project_name = admin', 'user_domain_id = default', 'project_domain_id = default',
            'region_name = RegionOne', '']) + '\n'

    def start(self, datastore_versions=()):
        os.makedirs(os.path.join(self.dir, 'log'), exist_ok=True)
        self.manage('db_sync')
        self.start_daemon('api')
        self.wait_api()
        return self

    def call(self, method, path, token=None):
        """(status, body) of a request to /v1.0{path}, with ``token`` if given."""
        headers = {'X-Auth-Token': token} if token else {}
        req = urllib.request.Request('http://127.0.0.1:%d/v1.0%s' % (self.port, path),
                                     method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b'null')
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b'null')


@pytest.fixture(scope='module')
def keystone():
    ks = Keystone()
    try:
        yield ks.start()
    finally:
        ks.stop()


@pytest.fixture(scope='module')
def stack(keystone):
    st = KeystoneStack(keystone)
    try:
        yield st.start()
    finally:
        st.stop()


@pytest.fixture(scope='module')
def alice(keystone):
    project_id = keystone.create_member('alice', 'alice-pw', 'alice-project')
    token, _ = keystone.token('alice', 'alice-pw', 'alice-project')
    return project_id, token


def test_token_of_the_url_project_is_accepted(stack, alice):
    project_id, token = alice
    status, body = stack.call('GET', '/%s/instances' % project_id, token)
    assert status == 200, body
    assert body == {'instances': []}


def test_token_of_another_project_is_forbidden(stack, keystone, alice):
    _, token = alice
    admin_project = keystone.token('admin', ADMIN_PASSWORD, 'admin')[1]['project']['id']
    status, body = stack.call('GET', '/%s/instances' % admin_project, token)
    assert status == 403
    assert body['forbidden']['code'] == 403


def test_missing_or_invalid_token_is_unauthorized(stack, alice):
    project_id, _ = alice
    for token in (None, 'gAAAAA-not-a-real-token'):
        status, body = stack.call('GET', '/%s/instances' % project_id, token)
        assert status == 401
        assert body['unauthorized']['code'] == 401


def test_versions_stay_public(stack):
    with urllib.request.urlopen('http://127.0.0.1:%d/' % stack.port, timeout=10) as resp:
        assert resp.status == 200
