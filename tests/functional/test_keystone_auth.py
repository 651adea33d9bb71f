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

from tests.functional.keystone_server import ADMIN_PASSWORD
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


def _database_endpoint(keystone, stack):
    """Register this API as the catalog's ``database`` service (idempotent)."""
    admin = keystone.admin_token()
    _, _, body = keystone.call('GET', '/services?type=database', token=admin)
    if body['services']:
        return
    _, _, body = keystone.call('POST', '/services', {'service': {
        'type': 'database', 'name': 'trove', 'enabled': True}}, admin)
    url = 'http://127.0.0.1:%d/v1.0/$(project_id)s' % stack.port
    for interface in ('public', 'internal'):
        status, _, _ = keystone.call('POST', '/endpoints', {'endpoint': {
            'service_id': body['service']['id'], 'interface': interface, 'url': url,
            'region_id': 'RegionOne'}}, admin)
        assert status == 201


def _openstack(keystone, *args):
    """``openstack <args> -f json`` as the cloud admin; returns the parsed output."""
    import subprocess
    import sys
    env = dict(os.environ, OS_AUTH_URL=keystone.url, OS_USERNAME='admin',
               OS_PASSWORD=ADMIN_PASSWORD, OS_PROJECT_NAME='admin',
               OS_USER_DOMAIN_ID='default', OS_PROJECT_DOMAIN_ID='default',
               OS_IDENTITY_API_VERSION='3', OS_REGION_NAME='RegionOne')
    cli = os.path.join(os.path.dirname(sys.executable), 'openstack')
    res = subprocess.run([cli, *args, '-f', 'json'], env=env, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_cli_quota_commands_take_a_project_name(stack, keystone, alice):
    """``openstack database quota show|update <name>``: troveclient resolves the
    name through Keystone's projects API, the API gets the project's id."""
    project_id, _ = alice
    _database_endpoint(keystone, stack)
    updated = _openstack(keystone, 'database', 'quota', 'update', 'alice-project',
                         'instances', '3')
    assert updated == {'instances': 3}
    shown = {row['Resource']: row for row in
             _openstack(keystone, 'database', 'quota', 'show', 'alice-project')}
    assert shown['instances']['Limit'] == 3
    assert shown['instances']['In Use'] == 0
    # The same limit, asked for by the project's id.
    status, body = stack.call('GET', '/%s/mgmt/quotas/%s' % (
        keystone.token('admin', ADMIN_PASSWORD, 'admin')[1]['project']['id'], project_id),
        keystone.admin_token())
    assert status == 200
    assert {q['resource']: q['limit'] for q in body['quotas']}['instances'] == 3
