"""Pipelines, versions, faults and the context middlewares."""
import json
import socket
import threading
import urllib.request

import webob

from trove.api import middleware, router
from trove.cmd import api as cmd_api
from trove.conf import CONF
from trove.db import api as db_api

from tests.unit.api.conftest import PASTE, call


def test_versions_document_without_auth(app):
    status, body = call(app, 'GET', '/')
    assert status == 200
    (version,) = body['versions']
    assert version['id'] == 'v1.0' and version['status'] == 'CURRENT'
    assert version['links'][0]['href'].endswith('/v1.0/')
    status, body = call(app, 'GET', '/v1.0/')
    assert status == 200 and body['version']['id'] == 'v1.0'


def test_unknown_path_and_wrong_method(app):
    status, body = call(app, 'GET', '/v1.0/t1/nothing')
    assert status == 404 and body['itemNotFound']['code'] == 404
    status, body = call(app, 'PUT', '/v1.0/t1/flavors')
    assert status == 405 and body['badMethod']['code'] == 405
    status, body = call(app, 'GET', '/v2/')
    assert status == 404


def test_trailing_slash_accepted(app):
    status, body = call(app, 'GET', '/v1.0/t1/instances/')
    assert status == 200 and body == {'instances': []}


def test_unhandled_error_is_500_without_traceback(app, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError('secret internals')
    monkeypatch.setattr(db_api, 'list_instances', boom)
    status, body = call(app, 'GET', '/v1.0/t1/instances')
    assert status == 500
    message = body['instanceFault']['message']
    assert 'Please keep this ID' in message
    assert 'secret' not in message and 'Traceback' not in message


def test_noauth_context_from_url(app):
    seen = {}

    class Probe:
        def __call__(self, environ, start_response):
            seen['ctx'] = environ['trove.context']
            return webob.Response(json_body={})(environ, start_response)

    wrapped = middleware.NoAuthContext(Probe())
    req = webob.Request.blank('/tenant9/instances?limit=3&marker=m',
                              headers={'X-Auth-Token': 'notused', 'X-User-Id': 'bob'})
    resp = req.get_response(wrapped)
    ctx = seen['ctx']
    assert (ctx.project_id, ctx.user_id, ctx.is_admin) == ('tenant9', 'bob', True)
    assert (ctx.limit, ctx.marker) == (3, 'm')
    assert resp.headers['x-openstack-request-id'] == ctx.request_id


def _keystone_app():
    return middleware.FaultWrapper(middleware.KeystoneContext(router.APIRouter()))


def test_keystone_context_rejects_other_tenant(db, recorder):
    headers = {'X-Project-Id': 'p1', 'X-User-Id': 'u', 'X-Roles': 'member,reader'}
    status, body = call(_keystone_app(), 'GET', '/p2/instances', headers=headers)
    assert status == 403 and body['forbidden']['code'] == 403
    status, body = call(_keystone_app(), 'GET', '/p1/instances', headers=headers)
    assert status == 200 and body == {'instances': []}


def test_keystone_context_roles(db, recorder):
    seen = {}

    def probe(environ, start_response):
        seen['ctx'] = environ['trove.context']
        return webob.Response()(environ, start_response)

    req = webob.Request.blank('/p1/flavors', headers={
        'X-Tenant-Id': 'p1', 'X-User-Id': 'u1', 'X-Roles': 'member, admin'})
    req.get_response(middleware.KeystoneContext(probe))
    ctx = seen['ctx']
    assert ctx.project_id == 'p1' and ctx.roles == ['member', 'admin'] and ctx.is_admin


def test_keystone_pipeline_selected_by_conf(db, recorder):
    from keystonemiddleware import auth_token  # noqa: F401 - registers its options
    from trove.api import app as api_app
    CONF.set_override('api_pipeline', 'trove')
    CONF.set_override('www_authenticate_uri', 'http://keystone.example/identity',
                      group='keystone_authtoken')
    try:
        app = api_app.load_app(PASTE)
        # No token: authtoken refuses, and faultwrap answers in the JSON fault shape.
        status, body = call(app, 'GET', '/v1.0/t1/instances')
    finally:
        CONF.clear_override('api_pipeline')
        CONF.clear_override('www_authenticate_uri', group='keystone_authtoken')
    assert status == 401 and 'unauthorized' in body
    status, body = call(app, 'GET', '/')
    assert status == 200


def test_server_serves_the_app(app):
    server = cmd_api.make_server(app, '127.0.0.1', 0, 2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        with urllib.request.urlopen('http://127.0.0.1:%d/v1.0/t1/flavors' % port) as resp:
            assert resp.status == 200
            assert len(json.loads(resp.read())['flavors']) == 2
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_server_queues_a_burst_of_connections(app):
    # Nothing accepts yet (serve_forever is not running): every connection
    # of a burst must wait in the listen backlog instead of being dropped,
    # which clients see as resets or SYN retries of seconds.
    server = cmd_api.make_server(app, '127.0.0.1', 0, 2, backlog=128)
    socks = []
    try:
        for _ in range(60):
            sock = socket.create_connection(server.server_address, timeout=0.5)
            socks.append(sock)
        assert len(socks) == 60
    finally:
        for sock in socks:
            sock.close()
        server.server_close()


def test_find_paste_config_falls_back_to_repo_etc():
    path = cmd_api.find_paste_config()
    assert path.endswith('etc/trove/api-paste.ini')
