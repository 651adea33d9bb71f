"""A real OpenStack Swift all-in-one on loopback for functional tests.

The servers (proxy, account, container, object; one replica on one device,
a plain directory with mount_check off) are set up by bin/lib/swift_aio.py,
the same code bin/stack.sh runs for TROVE_OBJECT_STORE=swift.  Swift pins
its own dependency versions, so it lives in a throwaway venv outside the
project's (cached under /tmp between runs, like Keystone's).

Without a Keystone the proxy has no auth middleware (any token works, as
with the API's noauth pipeline); with one it runs authtoken + keystoneauth,
and :meth:`SwiftServer.register` puts it into Keystone's catalog as the
``object-store`` service, which clients (python-troveclient's log tail,
Horizon's Backups panels) look up.
"""
import importlib.util
import os
import shutil
import subprocess
import tempfile

import pytest

from tests.functional.keystone_server import ADMIN_PASSWORD
from tests.functional.stack import REPO, free_port

VENV = os.environ.get('TROVE_TEST_SWIFT_VENV', '/tmp/trove-test-swift-venv')


def _aio():
    """bin/lib/swift_aio.py as a module (bin/ is not a package)."""
    path = os.path.join(REPO, 'bin', 'lib', 'swift_aio.py')
    spec = importlib.util.spec_from_file_location('swift_aio', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


aio = _aio()
RESELLER_ADMIN_ROLE = aio.RESELLER_ADMIN_ROLE


def ensure_venv():
    """The Swift venv (cached; the test skips when the registry cannot serve it)."""
    try:
        aio.install(VENV)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(VENV, ignore_errors=True)
        pytest.skip('cannot install %s from the package registry: %s' % (aio.SWIFT_REQ, exc))
    return VENV



def object_names(conn, container):
    """Names of the objects in ``container`` (a swiftclient Connection's);
    [] when the container does not exist."""
    from swiftclient import client as swift_client
    try:
        return [o['name'] for o in conn.get_container(container, full_listing=True)[1]]
    except swift_client.ClientException as exc:
        if exc.http_status == 404:
            return []
        raise

class SwiftServer:
    """One Swift AIO: its directory (configs, rings, device, logs) and processes."""

    def __init__(self, keystone=None):
        self.venv = ensure_venv()
        self.keystone = keystone
        self.dir = tempfile.mkdtemp(prefix='trove-swift-')
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.ports = None

    @property
    def endpoint_url(self):
        """The catalog's object-store URL (Keystone substitutes the project id)."""
        return self.url + '/v1/AUTH_$(project_id)s'

    def account_url(self, project_id):
        """Storage URL of ``project_id``'s account."""
        return '%s/v1/AUTH_%s' % (self.url, project_id)

    @property
    def url_template(self):
        """``[backup] swift_url`` for objects in the instance owner's account."""
        return self.url + '/v1/AUTH_%(tenant_id)s'

    def start(self):
        ks = self.keystone
        self.ports = aio.start(self.dir, self.venv, self.port,
                               ks.url if ks else None, ADMIN_PASSWORD if ks else None)
        return self

    def stop(self):
        aio.stop(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)

    def logs(self):
        """The servers' log text (for assertion messages)."""
        out = []
        for name in aio.SERVERS:
            try:
                with open(os.path.join(self.dir, 'log', '%s.log' % name)) as f:
                    out.append('== %s\n%s' % (name, f.read()[-3000:]))
            except OSError:
                pass
        return '\n'.join(out)

    # Keystone ------------------------------------------------------------

    def register(self, region='RegionOne'):
        """The ``object-store`` service with public/internal/admin endpoints,
        and the reseller admin role (granted with :meth:`grant_reseller_admin`)."""
        ks = self.keystone
        admin = ks.admin_token()
        status, _, body = ks.call('POST', '/services', {'service': {
            'type': 'object-store', 'name': 'swift', 'enabled': True}}, admin)
        assert status == 201, body
        service_id = body['service']['id']
        for interface in ('public', 'internal', 'admin'):
            status, _, body = ks.call('POST', '/endpoints', {'endpoint': {
                'service_id': service_id, 'interface': interface, 'region_id': region,
                'url': self.endpoint_url}}, admin)
            assert status == 201, body
        status, _, body = ks.call('POST', '/roles', {'role': {'name': RESELLER_ADMIN_ROLE}},
                                  admin)
        assert status in (201, 409), body
        return service_id

    def grant_reseller_admin(self, user='admin', project='admin'):
        """Let ``user`` (on ``project``) use every account, as the trove
        service user does to write into its users' accounts."""
        ks = self.keystone
        admin = ks.admin_token()
        ids = {}
        for kind, name in (('users', user), ('projects', project),
                           ('roles', RESELLER_ADMIN_ROLE)):
            _, _, body = ks.call('GET', '/%s?name=%s' % (kind, name), token=admin)
            ids[kind] = body[kind][0]['id']
        status, _, _ = ks.call('PUT', '/projects/%s/users/%s/roles/%s' % (
            ids['projects'], ids['users'], ids['roles']), token=admin)
        assert status == 204
