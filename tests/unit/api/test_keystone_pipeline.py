"""The ``trove`` paste pipeline (authtoken + KeystoneContext) with keystonemiddleware's fixture.

The fixture replaces only the token validation call; the real authtoken
filter still sets the identity headers our context filter reads.  The
functional test tests/functional/test_keystone_auth.py does the same
against a real Keystone.
"""
import os

import pytest
from keystonemiddleware import auth_token  # noqa: F401 (registers [keystone_authtoken])
from keystonemiddleware import fixture as ks_fixture

from tests.unit.api.conftest import PASTE, call
from trove.api import app as api_app
from trove.api import middleware
from trove.conf import CONF

PROJECT = 'p-alice'


@pytest.fixture
def tokens():
    fx = ks_fixture.AuthTokenFixture()
    fx.setUp()
    fx.add_token_data(token_id='member-token', user_id='alice', project_id=PROJECT,
                      role_list=['member', 'reader'])
    fx.add_token_data(token_id='admin-token', user_id='root', project_id=PROJECT,
                      role_list=['admin'])
    yield fx
    fx.cleanUp()


@pytest.fixture
def keystone_app(tokens, app, monkeypatch):
    CONF.set_override('api_pipeline', 'trove')
    # A 401 names the identity endpoint in WWW-Authenticate; with no service
    # auth plugin configured authtoken needs it spelled out.
    CONF.set_override('www_authenticate_uri', 'http://keystone.test/v3',
                      group='keystone_authtoken')
    seen = []
    real = middleware.build_context

    def recording(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]
    monkeypatch.setattr(middleware, 'build_context', recording)
    try:
        loaded = api_app.load_app(os.path.abspath(PASTE))
        loaded.contexts = seen
        yield loaded
    finally:
        CONF.clear_override('api_pipeline')
        CONF.clear_override('www_authenticate_uri', group='keystone_authtoken')


def test_member_token_for_its_project(keystone_app):
    status, body = call(keystone_app, 'GET', '/v1.0/%s/instances' % PROJECT,
                        headers={'X-Auth-Token': 'member-token'})
    assert status == 200, body
    ctx = keystone_app.contexts[-1]
    assert (ctx.project_id, ctx.user_id) == (PROJECT, 'alice')
    assert sorted(ctx.roles) == ['member', 'reader']
    assert ctx.is_admin is False
    assert ctx.auth_token == 'member-token'


def test_admin_role_makes_an_admin_context(keystone_app):
    status, _ = call(keystone_app, 'GET', '/v1.0/%s/instances' % PROJECT,
                     headers={'X-Auth-Token': 'admin-token'})
    assert status == 200
    assert keystone_app.contexts[-1].is_admin is True


def test_admin_roles_option_decides(keystone_app):
    CONF.set_override('admin_roles', ['reader'])
    try:
        call(keystone_app, 'GET', '/v1.0/%s/instances' % PROJECT,
             headers={'X-Auth-Token': 'member-token'})
    finally:
        CONF.clear_override('admin_roles')
    assert keystone_app.contexts[-1].is_admin is True


def test_other_project_in_url_is_forbidden(keystone_app):
    status, body = call(keystone_app, 'GET', '/v1.0/p-bob/instances',
                        headers={'X-Auth-Token': 'admin-token'})
    assert status == 403
    assert body['forbidden']['code'] == 403
    assert keystone_app.contexts == []


@pytest.mark.parametrize('headers', [{}, {'X-Auth-Token': 'forged'}])
def test_missing_or_unknown_token_is_unauthorized(keystone_app, headers):
    status, body = call(keystone_app, 'GET', '/v1.0/%s/instances' % PROJECT,
                        headers=headers)
    assert status == 401
    assert body['unauthorized']['code'] == 401
    assert keystone_app.contexts == []


def test_identity_headers_from_the_client_are_not_trusted(keystone_app):
    # authtoken strips caller-supplied identity headers before validating.
    status, _ = call(keystone_app, 'GET', '/v1.0/%s/instances' % PROJECT,
                     headers={'X-Auth-Token': 'member-token', 'X-Roles': 'admin',
                              'X-Project-Id': 'p-bob'})
    assert status == 200
    ctx = keystone_app.contexts[-1]
    assert ctx.project_id == PROJECT and ctx.is_admin is False
