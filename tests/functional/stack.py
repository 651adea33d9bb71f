"""A private trove deployment for functional tests.

Each Stack has its own config, SQLite database, local-driver directory,
loopback address range, RPC topics and API port, so it never meets another
stack (or the quick-start one) on the shared RabbitMQ broker.  It starts the
real api, taskmanager and conductor daemons and ends only the processes it
started, by PID.
"""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
TRANSPORT = os.environ.get('TROVE_TEST_TRANSPORT', 'rabbit://guest:guest@127.0.0.1:5672/')
DAEMONS = ('conductor', 'taskmanager', 'api')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def end_process(proc, timeout=20):
    """SIGTERM the Popen ``proc`` (one the test started) if it still runs,
    SIGKILL it after ``timeout`` seconds, and reap it."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def engine_version():
    """Version name of the MariaDB on this machine, e.g. '10.11'."""
    out = subprocess.run(['mariadbd', '--version'], capture_output=True, text=True).stdout
    for word in out.replace('-', ' ').split():
        if word[:1].isdigit() and word.count('.') >= 2:
            return '.'.join(word.split('.')[:2])
    return 'default'


class Stack:
    """Config, processes and CLI of one test deployment."""

    # What request() sends as X-Auth-Token (a stack on keystone sets a real one).
    auth_token = 'opaque'

    def __init__(self, usage_timeout=300, address_prefix=None, tenant='tenant-a',
                 guest_config=None, local_opts=None, default_opts=None, transport=None,
                 database=None, sections=None, own_sessions=False):
        self.transport = transport or TRANSPORT
        self.dir = tempfile.mkdtemp(prefix='trove-ft-')
        # A private loopback /16 keeps concurrent stacks (and the quick-start
        # one on 127.77) from handing out the same instance address.
        address_prefix = address_prefix or '127.%d' % random.randint(100, 250)
        self.address_prefix = address_prefix
        self.tag = uuid.uuid4().hex[:8]
        self.port = free_port()
        self.tenant = tenant
        self.procs = {}
        self.conf = os.path.join(self.dir, 'trove.conf')
        self.base_dir = os.path.join(self.dir, 'local')
        self.taskmanager_topic = 'taskmanager-%s' % self.tag
        self.conductor_topic = 'trove-conductor-%s' % self.tag
        self.guest_config = os.path.join(self.dir, 'trove-guestagent.conf')
        self.local_opts = dict(local_opts or {})
        self.default_opts = dict(default_opts or {})
        # The infrastructure database (default: a SQLite file of the stack's
        # own) and further config sections, {section: {option: value}}.
        self.database = database or 'sqlite:///%s' % os.path.join(self.dir, 'trove.sqlite')
        self.sections = dict(sections or {})
        # Daemons in sessions of their own, as systemd units run (with
        # autogroup scheduling each session is a CPU group of its own).
        self.own_sessions = own_sessions
        if guest_config is not None:
            with open(self.guest_config, 'w') as f:
                f.write(guest_config)
        with open(self.conf, 'w') as f:
            f.write(self._config(usage_timeout, address_prefix))

    def _config(self, usage_timeout, address_prefix):
        return '\n'.join([
            '[DEFAULT]',
            'transport_url = %s' % self.transport,
            'control_exchange = trove-test-%s' % self.tag,
            'taskmanager_queue = %s' % self.taskmanager_topic,
            'conductor_queue = %s' % self.conductor_topic,
            'host = ft-%s' % self.tag,
            'bind_host = 127.0.0.1',
            'bind_port = %d' % self.port,
            'usage_timeout = %d' % usage_timeout,
            'report_interval = 2',
            # Tests send X-Roles to act as members (noauth callers are admins).
            'noauth_trust_roles_header = true',
            'debug = true',
            'log_dir = %s' % os.path.join(self.dir, 'log'),
            # Guests get a config derived from this one unless a test wrote one.
            'guest_config = %s' % self.guest_config,
            *('%s = %s' % item for item in sorted(self.default_opts.items())),
            '[database]',
            'connection = %s' % self.database,
            '[local]',
            'base_dir = %s' % self.base_dir,
            'address_prefix = %s' % address_prefix,
            *('%s = %s' % item for item in sorted(self.local_opts.items())),
            *_sections(self.sections),
            '']) + '\n'

    def manage(self, *args):
        subprocess.run([sys.executable, '-m', 'trove.cmd.manage', '--config-file', self.conf,
                        *args], check=True, capture_output=True, text=True)

    def start(self, datastore_versions=()):
        """db_sync, register datastores, start the daemons and wait for the API."""
        os.makedirs(os.path.join(self.dir, 'log'), exist_ok=True)
        self.manage('db_sync')
        version = engine_version()
        self.manage('datastore_update', 'mariadb')
        self.manage('datastore_version_update', 'mariadb', version, 'mariadb', '', '', '1')
        self.manage('datastore_update', 'mariadb', version)
        self.manage('db_load_datastore_config_parameters', 'mariadb', version,
                    os.path.join(REPO, 'trove', 'templates', 'mariadb', 'validation-rules.json'))
        for ds, ver, manager in datastore_versions:
            self.manage('datastore_update', ds)
            self.manage('datastore_version_update', ds, ver, manager, '', '', '1')
            self.manage('datastore_update', ds, ver)
        for name in DAEMONS:
            self.start_daemon(name)
        self.wait_api()
        return self

    def start_daemon(self, name, key=None, config=None):
        """Start daemon ``name`` as ``procs[key]`` (default ``name``; another
        key starts one more process of that kind, logging to ``<key>.out``
        and, with ``config`` {section: {option: value}}, reading those
        overrides from a config file of its own after the stack's)."""
        key = key or name
        args = ['--config-file', self.conf]
        if config:
            extra = os.path.join(self.dir, '%s.conf' % key)
            with open(extra, 'w') as f:
                f.write('\n'.join(_sections(config)) + '\n')
            args += ['--config-file', extra]
        if key != name:
            # trove-<key>.log beside the first one's trove-<name>.log.
            args += ['--log-file', 'trove-%s.log' % key]
        out = open(os.path.join(self.dir, 'log', '%s.out' % key), 'ab')
        self.procs[key] = subprocess.Popen(
            [sys.executable, '-m', 'trove.cmd.%s' % name, *args],
            stdout=out, stderr=subprocess.STDOUT, cwd=self.dir,
            start_new_session=self.own_sessions)
        out.close()

    def start_api(self, key):
        """One more API process on a port of its own; returns the port."""
        port = free_port()
        self.start_daemon('api', key, {'DEFAULT': {'bind_port': port}})
        self.wait_api(port=port)
        return port

    def stop_daemon(self, name, timeout=20):
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def wait_api(self, timeout=30, port=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                urllib.request.urlopen('http://127.0.0.1:%d/' % (port or self.port), timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError('API did not answer; see %s' % self.dir)

    @property
    def endpoint(self):
        return self.endpoint_at(self.port)

    def endpoint_at(self, port):
        return 'http://127.0.0.1:%d/v1.0/%s' % (port, self.tenant)

    def cli(self, *args, check=True):
        """Run ``openstack database ...`` (the real CLI) against this stack."""
        cmd = [os.path.join(BIN, 'openstack'), '--os-auth-type', 'none',
               '--os-endpoint', self.endpoint, *args]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and res.returncode != 0:
            raise AssertionError('%s failed: %s%s' % (' '.join(args), res.stdout, res.stderr))
        return res

    def cli_json(self, *args):
        return json.loads(self.cli(*args, '-f', 'json').stdout)

    def request(self, method, path, body=None, port=None):
        """A raw REST call (to the API on ``port``, default the first one);
        returns (status, parsed body or None)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.endpoint_at(port or self.port) + path, data=data,
                                     method=method,
                                     headers={'Content-Type': 'application/json',
                                              'X-Auth-Token': self.auth_token})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, json.loads(raw) if raw else None

    def wait_instance(self, instance_id, until, timeout=300):
        """Poll GET /instances/{id} until ``until(status, body)`` is true."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            code, body = self.request('GET', '/instances/%s' % instance_id)
            last = (code, body)
            if until(code, body):
                return body
            time.sleep(1)
        raise AssertionError('instance %s: timed out, last %r; logs in %s'
                             % (instance_id, last, self.dir))

    def local_servers(self):
        path = os.path.join(self.base_dir, 'servers')
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    def local_volumes(self):
        path = os.path.join(self.base_dir, 'volumes')
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    def keep_logs(self):
        """With TROVE_TEST_LOGS=DIR: copy the daemons' and the guests' logs
        there (one directory per stack) before the stack's files go."""
        dest = os.environ.get('TROVE_TEST_LOGS')
        if not dest:
            return
        target = os.path.join(dest, os.path.basename(self.dir))
        shutil.copytree(os.path.join(self.dir, 'log'), os.path.join(target, 'log'),
                        dirs_exist_ok=True)
        servers = os.path.join(self.base_dir, 'servers')
        for server in os.listdir(servers) if os.path.isdir(servers) else ():
            logs = os.path.join(servers, server, 'var', 'log')
            if os.path.isdir(logs):
                shutil.copytree(logs, os.path.join(target, 'servers', server),
                                dirs_exist_ok=True)

    def stop(self):
        """Stop daemons, power off servers and writer addresses left behind,
        drop queues and files."""
        self.keep_logs()
        # APIs first, conductors last, extra processes with their kind.
        for name in reversed(DAEMONS):
            for key in sorted(k for k in self.procs if k.split('-')[0] == name):
                self.stop_daemon(key)
        if self.local_servers() or os.path.isdir(os.path.join(self.base_dir, 'writers')):
            subprocess.run([sys.executable, '-c', _CLEANUP, self.conf], check=False)
        subprocess.run([sys.executable, '-c', _DROP_QUEUES, self.conf,
                        self.taskmanager_topic, self.conductor_topic], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def _sections(sections):
    """Config file lines of {section: {option: value}}."""
    lines = []
    for section, opts in sorted(sections.items()):
        lines.append('[%s]' % section)
        lines += ['%s = %s' % item for item in sorted(opts.items())]
    return lines


# Runs in a child so the test process keeps no trove config of its own.
_CLEANUP = '''
import sys
from trove.conf import CONF
CONF(['--config-file', sys.argv[1]], project='trove')
from trove.compute import local
driver = local.LocalDriver()
for server in driver.list_servers():
    driver.delete_server(server.id)
# Writer addresses of replica sets a test left behind (their forwarders).
import os
from trove.compute import local_writer
writers = local_writer.writers_dir(driver.base_dir)
for set_id in os.listdir(writers) if os.path.isdir(writers) else ():
    driver.release_writer_address(set_id)
'''

_DROP_QUEUES = '''
import sys
from trove.conf import CONF
CONF(['--config-file', sys.argv[1]], project='trove')
from trove.common import rpc
names = []
for topic in sys.argv[2:]:
    names += [topic, topic + '.' + CONF.host]
rpc.delete_queues(names)
'''
