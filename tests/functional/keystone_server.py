"""A real Keystone (SQLite, fernet tokens) for functional tests of the auth pipeline.

Keystone pins its own dependency versions, so it lives in a throwaway venv
outside the project's (cached under /tmp between runs), and runs as a child
process serving its WSGI app with the stdlib server on a free loopback port.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from tests.functional.stack import end_process, free_port

KEYSTONE_REQ = 'keystone==30.0.0'
VENV = os.environ.get('TROVE_TEST_KEYSTONE_VENV', '/tmp/trove-test-keystone-venv')
ADMIN_PASSWORD = 'ks-admin-secret'

_SERVE = '''
import os, socketserver, sys
from wsgiref import simple_server
port, conf = int(sys.argv[1]), sys.argv[2]
sys.argv = sys.argv[:1]  # keystone parses the command line itself
os.environ['OS_KEYSTONE_CONFIG_FILES'] = conf
from keystone.server import wsgi
app = wsgi.initialize_public_application()
class Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
simple_server.make_server('127.0.0.1', port, app, server_class=Server).serve_forever()
'''


def throwaway_venv(venv, *requirements, env=None):
    """Path of ``venv``'s python with ``requirements`` installed, creating the
    venv on first use (cached; the test skips when the registry cannot serve it)."""
    python = os.path.join(venv, 'bin', 'python')
    if os.path.exists(os.path.join(venv, '.complete')):
        return python
    shutil.rmtree(venv, ignore_errors=True)
    base = getattr(sys, '_base_executable', None) or 'python3'
    subprocess.run([base, '-m', 'venv', venv], check=True)
    res = subprocess.run([python, '-m', 'pip', 'install', '--quiet', *requirements],
                         capture_output=True, text=True, timeout=900,
                         env=dict(os.environ, **(env or {})))
    if res.returncode != 0:
        tail = (res.stderr or res.stdout)[-600:]
        shutil.rmtree(venv, ignore_errors=True)
        pytest.skip('cannot install %s from the package registry: %s'
                    % (' '.join(requirements), tail))
    open(os.path.join(venv, '.complete'), 'w').close()
    return python


def ensure_venv():
    """Path of the Keystone venv's python."""
    return throwaway_venv(VENV, KEYSTONE_REQ)


class Keystone:
    """One Keystone: its directory, database, keys and process."""

    def __init__(self):
        self.python = ensure_venv()
        self.dir = tempfile.mkdtemp(prefix='trove-ks-')
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d/v3' % self.port
        self.conf = os.path.join(self.dir, 'keystone.conf')
        self.proc = None
        with open(self.conf, 'w') as f:
            f.write(self._config())

    def _config(self):
        d = self.dir
        return '\n'.join([
            '[DEFAULT]', 'log_file = %s' % os.path.join(d, 'keystone.log'),
            '[database]', 'connection = sqlite:///%s' % os.path.join(d, 'keystone.db'),
            '[token]', 'provider = fernet',
            '[fernet_tokens]', 'key_repository = %s' % os.path.join(d, 'fernet-keys'),
            '[fernet_receipts]', 'key_repository = %s' % os.path.join(d, 'fernet-receipts'),
            '[credential]', 'key_repository = %s' % os.path.join(d, 'credential-keys'),
            '']) + '\n'

    def _manage(self, *args):
        cmd = [os.path.join(VENV, 'bin', 'keystone-manage'), '--config-file', self.conf, *args]
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)

    def start(self):
        """Create the database and keys, bootstrap the admin, serve, wait."""
        user = ['--keystone-user', str(os.getuid()), '--keystone-group', str(os.getgid())]
        self._manage('fernet_setup', *user)
        self._manage('credential_setup', *user)
        self._manage('db_sync')
        self._manage('bootstrap', '--bootstrap-password', ADMIN_PASSWORD,
                     '--bootstrap-public-url', self.url, '--bootstrap-internal-url', self.url,
                     '--bootstrap-region-id', 'RegionOne')
        out = open(os.path.join(self.dir, 'serve.out'), 'ab')
        self.proc = subprocess.Popen([self.python, '-c', _SERVE, str(self.port), self.conf],
                                     stdout=out, stderr=subprocess.STDOUT, cwd=self.dir)
        out.close()
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url, timeout=2)
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError('keystone did not answer; see %s' % self.dir)

    def stop(self):
        end_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)

    # REST helpers ---------------------------------------------------------

    def call(self, method, path, body=None, token=None):
        """A JSON request to keystone; returns (status, headers, body)."""
        headers = {'Content-Type': 'application/json'}
        if token:
            headers['X-Auth-Token'] = token
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, resp.headers, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, err.headers, json.loads(raw) if raw else None

    def token(self, user, password, project):
        """A project-scoped token; returns (token, token body)."""
        status, headers, body = self.call('POST', '/auth/tokens', {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'id': 'default'}, 'password': password}}},
            'scope': {'project': {'name': project, 'domain': {'id': 'default'}}}}})
        assert status == 201, body
        return headers['X-Subject-Token'], body['token']

    def admin_token(self):
        return self.token('admin', ADMIN_PASSWORD, 'admin')[0]

    def create_member(self, name, password, project):
        """A user with the ``member`` role on a new project; returns the project id."""
        admin = self.admin_token()
        _, _, body = self.call('POST', '/projects', {'project': {
            'name': project, 'domain_id': 'default'}}, admin)
        project_id = body['project']['id']
        _, _, body = self.call('POST', '/users', {'user': {
            'name': name, 'password': password, 'domain_id': 'default'}}, admin)
        user_id = body['user']['id']
        _, _, body = self.call('GET', '/roles?name=member', token=admin)
        role_id = body['roles'][0]['id']
        status, _, _ = self.call('PUT', '/projects/%s/users/%s/roles/%s'
                                 % (project_id, user_id, role_id), token=admin)
        assert status == 204
        return project_id
