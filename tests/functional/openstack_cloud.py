"""A real OpenStack control plane for the nova driver's functional stage.

Keystone, Placement, Glance (file store), Nova (api, conductor, scheduler and
a compute with ``fake.FakeDriver``), Cinder (api, scheduler and a volume
service with the storage-free fake driver of the cinder wheel) and the
Neutron API server (ML2 with a mechanism driver of ours that binds every
port, since no agent runs), each from the package registry in its own venv
(openstack_venvs.py), each on its own MariaDB database on the shared server
(``trove_os_<tag>_<service>``, one account) and all on one RabbitMQ vhost of
their own on the shared broker, on free loopback ports.  ``start()`` seeds
them: the Keystone catalog and service users (``trove`` among them), Nova's
cells and compute host, two flavors, a shared Neutron network and subnet,
and a small real qcow2 image in Glance.  ``stop()`` ends every process it
started by PID, then drops the databases, the account and the vhost.
"""
import base64
import concurrent.futures
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from tests.functional import openstack_conf as conf
from tests.functional import openstack_venvs
from tests.functional.stack import end_process, free_port

ADMIN_PASSWORD = 'os-admin-secret'
TROVE_USER = 'trove'
SERVICE_PASSWORD = conf.SERVICE_PASSWORD
MYSQL = ('mysql', '-uroot', '--socket',
         os.environ.get('TROVE_MARIADB_SOCKET', '/run/mysqld/mysqld.sock'))
RABBITMQCTL = os.environ.get('TROVE_RABBITMQCTL', 'rabbitmqctl')
DATABASES = ('keystone', 'placement', 'glance', 'nova_api', 'nova_cell0', 'nova', 'cinder',
             'neutron')
FLAVORS = (('11', 'trove.small', 512, 1, 2), ('12', 'trove.medium', 1024, 2, 4))

# Serves one WSGI application with the stdlib's threading server.  The
# command line is cleared before the application is imported: these apps
# parse sys.argv with oslo.config themselves.
_SERVE = '''
import socketserver, sys
from wsgiref import simple_server
port, code = int(sys.argv[1]), sys.argv[2]
sys.argv = sys.argv[:1] + sys.argv[3:]
scope = {}
exec(code, scope)
class Quiet(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass
class Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    request_queue_size = 64
simple_server.make_server('127.0.0.1', port, scope['application'], server_class=Server,
                          handler_class=Quiet).serve_forever()
'''

# How each API builds its WSGI application (run by _SERVE).
APPS = {
    'keystone': 'from keystone.server import wsgi\n'
                'application = wsgi.initialize_public_application()',
    'placement': 'from placement import wsgi\napplication = wsgi.init_application()',
    'glance': 'from glance.common import wsgi_app\napplication = wsgi_app.init_app()',
    'nova': 'from nova.wsgi.osapi_compute import application',
    'cinder': 'from cinder.wsgi import wsgi\napplication = wsgi.initialize_application()',
    'neutron': 'from neutron.wsgi.api import application',
}


class CloudError(Exception):
    pass


class Cloud:
    """One control plane: its directory, databases, vhost, ports and processes."""

    def __init__(self):
        self.tag = uuid.uuid4().hex[:6]
        self.dir = tempfile.mkdtemp(prefix='trove-os-')
        self.db_prefix = 'trove_os_%s_' % self.tag
        self.db_user = 'trove_os_%s' % self.tag
        self.db_password = uuid.uuid4().hex
        self.vhost = 'trove_os_%s' % self.tag
        self.transport_url = 'rabbit://guest:guest@127.0.0.1:5672/%s' % self.vhost
        self.compute_host = 'trove-os-%s' % self.tag
        self.ports = {name: free_port() for name in APPS}
        self.keystone_url = 'http://127.0.0.1:%d/v3' % self.ports['keystone']
        self.procs = {}
        self.venvs = {}
        self.network_id = self.subnet_id = self.image_id = None
        self.made_databases = self.made_vhost = False

    # Names and paths -------------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def db_url(self, name):
        return 'mysql+pymysql://%s:%s@127.0.0.1:3306/%s%s?charset=utf8' % (
            self.db_user, self.db_password, self.db_prefix, name)

    def url(self, service):
        port = self.ports[service]
        return {'keystone': self.keystone_url,
                'placement': 'http://127.0.0.1:%d' % port,
                'glance': 'http://127.0.0.1:%d' % port,
                'nova': 'http://127.0.0.1:%d/v2.1' % port,
                'cinder': 'http://127.0.0.1:%d/v3' % port,
                'neutron': 'http://127.0.0.1:%d' % port}[service]

    def conf_file(self, service):
        # Glance's WSGI app reads glance-api.conf from OS_GLANCE_CONFIG_DIR.
        return self.path('glance-api.conf' if service == 'glance' else '%s.conf' % service)

    def venv_file(self, service, *parts):
        return os.path.join(self.venvs[service], *parts)

    def _bin(self, service, name):
        return os.path.join(self.venvs[service], 'bin', name)

    # Life cycle --------------------------------------------------------------

    def start(self):
        """Install (cached), configure, sync, start and seed everything."""
        self.venvs = openstack_venvs.ensure_all()
        self._write_configs()
        self._make_databases()
        self._make_vhost()
        self._parallel([self._sync_keystone, self._sync_placement, self._sync_glance,
                        self._sync_nova, self._sync_cinder, self._sync_neutron])
        for name in APPS:
            self._serve(name)
        self._wait_http('keystone')
        self._seed_keystone()
        for name in ('conductor', 'scheduler', 'compute'):
            self._daemon('nova', 'nova-%s' % name, '--config-file', self.path('nova.conf'))
        for name in ('scheduler', 'volume'):
            self._daemon('cinder', 'cinder-%s' % name, '--config-file', self.path('cinder.conf'))
        for name in APPS:
            self._wait_http(name)
        self._discover_compute_host()
        self._seed_flavors()
        self._seed_network()
        self._seed_image()
        self._wait_volume_service()
        return self

    def stop(self):
        """End every process by PID, drop the databases, account and vhost."""
        for key in reversed(list(self.procs)):
            end_process(self.procs.pop(key))
        if self.made_databases:
            sql = ''.join('DROP DATABASE IF EXISTS `%s%s`;' % (self.db_prefix, name)
                          for name in DATABASES)
            sql += "DROP USER IF EXISTS '%s'@'127.0.0.1';" % self.db_user
            subprocess.run([*MYSQL, '-e', sql], check=False, capture_output=True)
        if self.made_vhost:
            subprocess.run([RABBITMQCTL, 'delete_vhost', self.vhost], check=False,
                           capture_output=True)
        if os.environ.get('TROVE_TEST_LOGS'):
            shutil.copytree(self.dir, os.path.join(os.environ['TROVE_TEST_LOGS'],
                                                   os.path.basename(self.dir)),
                            ignore=shutil.ignore_patterns('glance-*'), dirs_exist_ok=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    # Set-up ------------------------------------------------------------------

    def _write_configs(self):
        for name in APPS:
            with open(self.conf_file(name), 'w') as f:
                f.write(getattr(conf, name)(self))
        # Our mechanism driver, importable and found by its entry point.
        plugin = self.path('neutron-plugin')
        info = os.path.join(plugin, 'trove_bind_all-1.0.dist-info')
        os.makedirs(info)
        with open(os.path.join(plugin, 'trove_bind_all.py'), 'w') as f:
            f.write(conf.BIND_ALL)
        with open(os.path.join(info, 'METADATA'), 'w') as f:
            f.write('Metadata-Version: 2.1\nName: trove-bind-all\nVersion: 1.0\n')
        with open(os.path.join(info, 'entry_points.txt'), 'w') as f:
            f.write(conf.BIND_ALL_ENTRY_POINTS)

    def _make_databases(self):
        sql = ["CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s';"
               % (self.db_user, self.db_password)]
        for name in DATABASES:
            sql.append('CREATE DATABASE `%s%s` CHARACTER SET utf8mb4;' % (self.db_prefix, name))
            sql.append("GRANT ALL ON `%s%s`.* TO '%s'@'127.0.0.1';"
                       % (self.db_prefix, name, self.db_user))
        self.made_databases = True
        self._run(*MYSQL, '-e', ''.join(sql))

    def _make_vhost(self):
        self.made_vhost = True
        self._run(RABBITMQCTL, 'add_vhost', self.vhost)
        self._run(RABBITMQCTL, 'set_permissions', '-p', self.vhost, 'guest', '.*', '.*', '.*')

    def _run(self, *cmd, env=None, timeout=600):
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                             cwd=self.dir, env=dict(os.environ, **(env or {})))
        if res.returncode != 0:
            raise CloudError('%s failed: %s' % (' '.join(cmd[:3]),
                                                (res.stderr or res.stdout)[-1500:]))
        return res.stdout

    def _parallel(self, jobs):
        with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
            for future in [pool.submit(job) for job in jobs]:
                future.result()

    def _sync_keystone(self):
        manage = [self._bin('keystone', 'keystone-manage'), '--config-file',
                  self.path('keystone.conf')]
        user = ['--keystone-user', str(os.getuid()), '--keystone-group', str(os.getgid())]
        self._run(*manage, 'fernet_setup', *user)
        self._run(*manage, 'credential_setup', *user)
        self._run(*manage, 'db_sync')
        self._run(*manage, 'bootstrap', '--bootstrap-password', ADMIN_PASSWORD,
                  '--bootstrap-public-url', self.keystone_url,
                  '--bootstrap-internal-url', self.keystone_url,
                  '--bootstrap-region-id', 'RegionOne')

    def _sync_placement(self):
        self._run(self._bin('placement', 'placement-manage'), '--config-file',
                  self.path('placement.conf'), 'db', 'sync')

    def _sync_glance(self):
        self._run(self._bin('glance', 'glance-manage'), '--config-file',
                  self.conf_file('glance'), 'db_sync')

    def _sync_nova(self):
        manage = [self._bin('nova', 'nova-manage'), '--config-file', self.path('nova.conf')]
        self._run(*manage, 'api_db', 'sync')
        self._run(*manage, 'cell_v2', 'map_cell0', '--database_connection',
                  self.db_url('nova_cell0'))
        self._run(*manage, 'cell_v2', 'create_cell', '--name', 'cell1')
        self._run(*manage, 'db', 'sync')

    def _sync_cinder(self):
        self._run(self._bin('cinder', 'cinder-manage'), '--config-file',
                  self.path('cinder.conf'), 'db', 'sync')

    def _sync_neutron(self):
        self._run(self._bin('neutron', 'neutron-db-manage'), '--config-file',
                  self.path('neutron.conf'), 'upgrade', 'heads')

    def _env(self, service):
        env = {'OS_%s_CONFIG_DIR' % service.upper(): self.dir,
               'OS_%s_CONFIG_FILES' % service.upper(): '%s.conf' % service}
        if service == 'nova':
            # Nova's WSGI app loads its paste pipeline from the first file.
            env['OS_NOVA_CONFIG_FILES'] = '%s;nova.conf' % self.venv_file(
                'nova', 'etc', 'nova', 'api-paste.ini')
        if service == 'neutron':
            env['PYTHONPATH'] = self.path('neutron-plugin')
        return env

    def _args(self, service):
        return ['--config-file', self.conf_file(service)]

    def _serve(self, service):
        self._spawn(service, service + '-api',
                    [self._bin(service, 'python'), '-c', _SERVE, str(self.ports[service]),
                     APPS[service], *self._args(service)])

    def _daemon(self, service, name, *args):
        self._spawn(service, name, [self._bin(service, name), *args])

    def _spawn(self, service, key, cmd):
        out = open(self.path('%s.out' % key), 'ab')
        env = dict(os.environ, **self._env(service))
        env.pop('PYTHONPATH', None) if service != 'neutron' else None
        self.procs[key] = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                           cwd=self.dir, env=env)
        out.close()

    def _wait_http(self, service, timeout=120):
        url = self.url(service)
        proc = self.procs[service + '-api']
        deadline = time.time() + timeout
        while time.time() < deadline:
            if proc.poll() is not None:
                raise CloudError('%s exited; see %s' % (service, self.path(service + '-api.out')))
            try:
                urllib.request.urlopen(url, timeout=5)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.5)
        raise CloudError('%s did not answer at %s' % (service, url))

    # REST ----------------------------------------------------------------------

    def token(self, user='admin', password=ADMIN_PASSWORD, project='admin'):
        status, headers, body = self.call('keystone', 'POST', '/auth/tokens', {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'id': 'default'}, 'password': password}}},
            'scope': {'project': {'name': project, 'domain': {'id': 'default'}}}}},
            token=None)
        if status != 201:
            raise CloudError('token for %s: %s %s' % (user, status, body))
        return headers['X-Subject-Token']

    def call(self, service, method, path, body=None, token='admin', headers=None,
             data=None):
        """A request to ``service``'s endpoint; returns (status, headers, parsed body)."""
        if token == 'admin':
            token = self.token()
        hdrs = {'Content-Type': 'application/json', **(headers or {})}
        if token:
            hdrs['X-Auth-Token'] = token
        if data is None and body is not None:
            data = json.dumps(body).encode()
        req = urllib.request.Request(self.url(service) + path, data=data, method=method,
                                     headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                return resp.status, resp.headers, _parse(raw)
        except urllib.error.HTTPError as err:
            return err.code, err.headers, _parse(err.read())

    def ok(self, service, method, path, body=None, **kwargs):
        """The parsed body of a request that must succeed."""
        status, _, parsed = self.call(service, method, path, body, **kwargs)
        if status >= 300:
            raise CloudError('%s %s %s: %s %s' % (service, method, path, status, parsed))
        return parsed

    # Seeding ---------------------------------------------------------------------

    def _seed_keystone(self):
        admin = self.token()
        ks = lambda *a, **k: self.ok('keystone', *a, token=admin, **k)  # noqa: E731
        project = ks('POST', '/projects', {'project': {
            'name': 'service', 'domain_id': 'default'}})['project']['id']
        admin_role = ks('GET', '/roles?name=admin')['roles'][0]['id']
        # Service tokens (Nova's to Neutron and Cinder) must carry ``service``
        # (a role keystone-manage bootstrap creates).
        service_role = ks('GET', '/roles?name=service')['roles'][0]['id']
        for user in ('placement', 'glance', 'nova', 'cinder', 'neutron', TROVE_USER):
            user_id = ks('POST', '/users', {'user': {
                'name': user, 'password': SERVICE_PASSWORD,
                'domain_id': 'default'}})['user']['id']
            for role in (admin_role, service_role):
                ks('PUT', '/projects/%s/users/%s/roles/%s' % (project, user_id, role))
        catalog = (('placement', 'placement', self.url('placement')),
                   ('glance', 'image', self.url('glance')),
                   ('nova', 'compute', self.url('nova')),
                   ('cinderv3', 'volumev3', self.url('cinder') + '/$(project_id)s'),
                   ('cinder', 'block-storage', self.url('cinder') + '/$(project_id)s'),
                   ('neutron', 'network', self.url('neutron')))
        for name, kind, url in catalog:
            service = ks('POST', '/services', {'service': {'name': name, 'type': kind}})
            for interface in ('public', 'internal', 'admin'):
                ks('POST', '/endpoints', {'endpoint': {
                    'service_id': service['service']['id'], 'interface': interface,
                    'url': url, 'region_id': 'RegionOne'}})

    def _discover_compute_host(self, timeout=120):
        """Map the compute host into cell1 once it has registered itself."""
        manage = [self._bin('nova', 'nova-manage'), '--config-file', self.path('nova.conf')]
        deadline = time.time() + timeout
        while time.time() < deadline:
            self._run(*manage, 'cell_v2', 'discover_hosts')
            if self._hypervisors():
                return
            time.sleep(2)
        raise CloudError('compute host %s never registered' % self.compute_host)

    def _hypervisors(self):
        status, _, body = self.call('nova', 'GET', '/os-hypervisors')
        return status == 200 and body['hypervisors']

    def _seed_flavors(self):
        for flavor_id, name, ram, vcpus, disk in FLAVORS:
            self.ok('nova', 'POST', '/flavors', {'flavor': {
                'id': flavor_id, 'name': name, 'ram': ram, 'vcpus': vcpus, 'disk': disk}})

    def _seed_network(self):
        net = self.ok('neutron', 'POST', '/v2.0/networks', {'network': {
            'name': 'trove-mgmt', 'shared': True, 'provider:network_type': 'flat',
            'provider:physical_network': 'physnet1'}})['network']
        self.network_id = net['id']
        self.subnet_id = self.ok('neutron', 'POST', '/v2.0/subnets', {'subnet': {
            'network_id': net['id'], 'ip_version': 4, 'cidr': '10.77.0.0/24',
            'enable_dhcp': False}})['subnet']['id']

    def _seed_image(self):
        """A small real qcow2 (Glance inspects what it is given)."""
        disk = self.path('guest.qcow2')
        self._run('qemu-img', 'create', '-f', 'qcow2', disk, '64M')
        image = self.ok('glance', 'POST', '/v2/images', {
            'name': 'trove-guest', 'disk_format': 'qcow2', 'container_format': 'bare',
            'visibility': 'public'})
        with open(disk, 'rb') as f:
            data = f.read()
        self.ok('glance', 'PUT', '/v2/images/%s/file' % image['id'], data=data,
                headers={'Content-Type': 'application/octet-stream'})
        self.image_id = image['id']
        deadline = time.time() + 60
        while self.ok('glance', 'GET', '/v2/images/%s' % image['id'])['status'] != 'active':
            if time.time() > deadline:
                raise CloudError('image %s never became active' % image['id'])
            time.sleep(0.5)

    def _wait_volume_service(self, timeout=90):
        """Until cinder-volume has reported its capacity to the scheduler."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            services = self.ok('cinder', 'GET', '/os-services')['services']
            if any(s['binary'] == 'cinder-volume' and s['state'] == 'up' for s in services):
                return
            time.sleep(1)
        raise CloudError('cinder-volume never came up')

    # Reading the services' state ------------------------------------------------

    def server(self, server_id, microversion='2.79'):
        status, _, body = self.call('nova', 'GET', '/servers/%s' % server_id,
                                    headers={'OpenStack-API-Version': 'compute %s'
                                             % microversion})
        return body['server'] if status == 200 else None

    def servers(self, tag):
        return self.ok('nova', 'GET', '/servers/detail?tags=%s' % tag,
                       headers={'OpenStack-API-Version': 'compute 2.79'})['servers']

    def actions(self, server_id):
        """The names of the actions Nova recorded for the server."""
        return [a['action'] for a in self.ok(
            'nova', 'GET', '/servers/%s/os-instance-actions' % server_id)['instanceActions']]

    def user_data(self, server_id):
        raw = self.server(server_id)['OS-EXT-SRV-ATTR:user_data']
        return base64.b64decode(raw).decode('utf-8') if raw else None

    def volume(self, volume_id):
        status, _, body = self.call('cinder', 'GET', '/volumes/%s' % volume_id)
        return body['volume'] if status == 200 else None

    def ports_of(self, server_id):
        return self.ok('neutron', 'GET', '/v2.0/ports?device_id=%s' % server_id)['ports']

    def security_groups(self, name):
        return self.ok('neutron', 'GET', '/v2.0/security-groups?name=%s' % name)[
            'security_groups']


def _parse(raw):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode('utf-8', 'replace')
