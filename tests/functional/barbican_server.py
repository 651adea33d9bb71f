"""A real Barbican (SQLite, simple_crypto) behind a real Keystone, for tests
of the key-manager path (castellan, secrets, consumers).

Barbican pins its own dependency versions, so it lives in a throwaway venv
outside the project's (cached under /tmp between runs) and runs as a child
process serving its paste app with the stdlib server on a free loopback
port.  Barbican reads ``~/.barbican/barbican.conf``: the child gets HOME set
to the server's own directory.
"""
import base64
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


from tests.functional.keystone_server import ADMIN_PASSWORD, throwaway_venv
from tests.functional.stack import end_process, free_port

BARBICAN_REQ = 'barbican==23.0.0'
VENV = os.environ.get('TROVE_TEST_BARBICAN_VENV', '/tmp/trove-test-barbican-venv')

_SERVE = '''
import socketserver, sys
from wsgiref import simple_server
from paste import deploy
port, paste = int(sys.argv[1]), sys.argv[2]
app = deploy.loadapp('config:%s' % paste)
class Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
simple_server.make_server('127.0.0.1', port, app, server_class=Server).serve_forever()
'''

_PASTE = '''[composite:main]
use = egg:Paste#urlmap
/: barbican_version
/v1: barbican-api-keystone

[pipeline:barbican_version]
pipeline = microversion versionapp

[pipeline:barbican-api-keystone]
pipeline = authtoken context microversion apiapp

[app:apiapp]
paste.app_factory = barbican.api.app:create_main_app

[app:versionapp]
paste.app_factory = barbican.api.app:create_version_app

[filter:context]
paste.filter_factory = barbican.api.middleware.context:ContextMiddleware.factory

[filter:microversion]
paste.filter_factory = barbican.api.middleware.microversion:MicroversionMiddleware.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
'''


def ensure_venv():
    """Path of the Barbican venv's python."""
    return throwaway_venv(VENV, BARBICAN_REQ)


class Barbican:
    """One Barbican: its directory, SQLite database, KEK and process."""

    def __init__(self, keystone):
        self.python = ensure_venv()
        self.keystone = keystone
        self.dir = tempfile.mkdtemp(prefix='trove-barbican-')
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.paste = os.path.join(self.dir, 'barbican-api-paste.ini')
        self.proc = None
        os.makedirs(os.path.join(self.dir, '.barbican'))
        with open(os.path.join(self.dir, '.barbican', 'barbican.conf'), 'w') as f:
            f.write(self._config())
        with open(self.paste, 'w') as f:
            f.write(_PASTE)

    def _config(self):
        d, ks = self.dir, self.keystone.url
        kek = base64.b64encode(secrets.token_bytes(32)).decode()
        return '\n'.join([
            '[DEFAULT]', 'host_href = %s' % self.url, 'db_auto_create = True',
            'log_file = %s' % os.path.join(d, 'barbican.log'),
            '[database]', 'connection = sqlite:///%s' % os.path.join(d, 'barbican.db'),
            '[secretstore]', 'enabled_secretstore_plugins = store_crypto',
            '[crypto]', 'enabled_crypto_plugins = simple_crypto',
            '[simple_crypto_plugin]', 'kek = %s' % kek,
            '[oslo_policy]', 'enforce_new_defaults = True', 'enforce_scope = True',
            '[keystone_authtoken]', 'www_authenticate_uri = %s' % ks, 'auth_url = %s' % ks,
            'auth_type = password', 'username = admin', 'password = %s' % ADMIN_PASSWORD,
            'project_name = admin', 'user_domain_id = default',
            'project_domain_id = default', 'service_token_roles_required = True',
            '']) + '\n'

    def start(self):
        """Serve and wait until the version document answers."""
        out = open(os.path.join(self.dir, 'serve.out'), 'ab')
        env = dict(os.environ, HOME=self.dir)
        self.proc = subprocess.Popen([self.python, '-c', _SERVE, str(self.port), self.paste],
                                     stdout=out, stderr=subprocess.STDOUT, cwd=self.dir,
                                     env=env)
        out.close()
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(self.url, timeout=2)
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError('barbican did not answer; see %s' % self.dir)

    def stop(self):
        end_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)

    # REST helpers, as barbican-tempest-plugin's secret clients use them -------

    def call(self, method, path, token, body=None, headers=None):
        import json
        hdrs = {'X-Auth-Token': token, 'Content-Type': 'application/json',
                'OpenStack-API-Version': 'key-manager 1.1', **(headers or {})}
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                return err.code, json.loads(raw) if raw else None
            except ValueError:
                return err.code, raw.decode(errors='replace')

    def create_p12_secret(self, token, payload: bytes, name='p12'):
        status, body = self.call('POST', '/v1/secrets', token, {
            'name': name, 'secret_type': 'certificate', 'algorithm': 'aes', 'mode': 'cbc',
            'bit_length': 256, 'payload': base64.b64encode(payload).decode(),
            'payload_content_type': 'application/octet-stream',
            'payload_content_encoding': 'base64'})
        assert status == 201, body
        return body['secret_ref']

    def create_passphrase(self, token, text, name='p12-password'):
        status, body = self.call('POST', '/v1/secrets', token, {
            'name': name, 'secret_type': 'passphrase', 'payload': text,
            'payload_content_type': 'text/plain'})
        assert status == 201, body
        return body['secret_ref']

    def consumers(self, token, ref):
        status, body = self.call('GET', '/v1/secrets/%s/consumers' % ref.rsplit('/', 1)[1],
                                 token)
        assert status == 200, body
        return body['consumers']
