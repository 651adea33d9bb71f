"""An all-in-one OpenStack Swift on loopback: one replica, one device, four servers.

Used by ``bin/stack.sh`` (TROVE_OBJECT_STORE=swift) and by the functional
tests (tests/functional/swift_server.py).  Standard library only, so it runs
with any Python 3; Swift itself lives in its own venv (``install``), because
it pins its own dependency versions.

Layout of ``DIR``: ``etc/`` (swift.conf, the four server configs, builders
and rings), ``node/d1`` (the one device: a plain directory, mount_check is
off), ``run/<server>.pid`` and ``log/<server>.log``.  The proxy runs either
with no auth middleware (any token, as the noauth API pipeline) or with
keystonemiddleware + keystoneauth against a Keystone; ``ResellerAdmin``
holders may use every project's account.

    python3 swift_aio.py install VENV
    python3 swift_aio.py start DIR VENV --port P [--keystone URL --password PW]
    python3 swift_aio.py stop DIR
    python3 swift_aio.py running DIR     # exit 0 when all four servers run
"""
import argparse
import json
import os
import pwd
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

SWIFT_REQ = 'swift==2.38.3'
# keystonemiddleware is Swift's optional auth_token filter.
REQS = (SWIFT_REQ, 'keystonemiddleware')
SERVERS = ('account', 'container', 'object', 'proxy')
RESELLER_ADMIN_ROLE = 'ResellerAdmin'


def install(venv):
    """Create ``venv`` with Swift unless a complete one is there; its python."""
    python = os.path.join(venv, 'bin', 'python')
    marker = os.path.join(venv, '.complete')
    if os.path.exists(marker):
        return python
    subprocess.run([sys.executable, '-m', 'venv', '--clear', venv], check=True)
    res = subprocess.run([python, '-m', 'pip', 'install', '--quiet',
                          '--disable-pip-version-check', *REQS],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise subprocess.CalledProcessError(res.returncode, res.args,
                                            res.stdout, res.stderr[-600:])
    open(marker, 'w').close()
    return python


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _server_conf(name, port, root, extra=''):
    etc = os.path.join(root, 'etc')
    return ('[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = %d\nworkers = 0\n'
            'user = %s\nswift_dir = %s\ndevices = %s\nmount_check = false\n'
            'log_level = INFO\n\n[pipeline:main]\npipeline = %s-server\n\n'
            '[app:%s-server]\nuse = egg:swift#%s\n%s'
            % (port, pwd.getpwuid(os.getuid()).pw_name, etc, os.path.join(root, 'node'),
               name, name, name, extra))


_PROXY = '''[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
user = {user}
swift_dir = {etc}
log_level = INFO

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging listing_formats bulk \
{auth} copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
'''

_KEYSTONE = '''
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = {url}
auth_url = {url}
auth_type = password
username = admin
password = {password}
project_name = admin
user_domain_id = default
project_domain_id = default
delay_auth_decision = true

[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
reseller_admin_role = {reseller}
'''


def write_configs(root, ports, keystone_url=None, admin_password=None):
    """swift.conf (kept once written: its hash suffix places the objects) and
    the four server configs under ``root/etc``."""
    etc = os.path.join(root, 'etc')
    for sub in ('etc', 'node/d1', 'run', 'log'):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    if not os.path.exists(os.path.join(etc, 'swift.conf')):
        with open(os.path.join(etc, 'swift.conf'), 'w') as f:
            f.write('[swift-hash]\nswift_hash_path_suffix = %s\n\n'
                    '[storage-policy:0]\nname = Policy-0\ndefault = yes\n'
                    % secrets.token_hex(8))
    for name in ('account', 'container', 'object'):
        with open(os.path.join(etc, '%s-server.conf' % name), 'w') as f:
            f.write(_server_conf(name, ports[name], root))
    auth = 'authtoken keystoneauth' if keystone_url else ''
    text = _PROXY.format(port=ports['proxy'], etc=etc, auth=auth,
                         user=pwd.getpwuid(os.getuid()).pw_name)
    if keystone_url:
        text += _KEYSTONE.format(url=keystone_url, password=admin_password,
                                 reseller=RESELLER_ADMIN_ROLE)
    with open(os.path.join(etc, 'proxy-server.conf'), 'w') as f:
        f.write(text)


def build_rings(root, venv, ports):
    """One-replica rings of the one device for account, container and object."""
    builder = os.path.join(venv, 'bin', 'swift-ring-builder')
    for name in ('account', 'container', 'object'):
        path = os.path.join(root, 'etc', '%s.builder' % name)
        run = [builder, path]
        subprocess.run(run + ['create', '10', '1', '1'], check=True, capture_output=True)
        subprocess.run(run + ['add', 'r1z1-127.0.0.1:%d/d1' % ports[name], '1'],
                       check=True, capture_output=True)
        # rebalance exits 1 when it only warns (a one-device ring always does).
        res = subprocess.run(run + ['rebalance'], capture_output=True, text=True)
        if res.returncode > 1:
            raise RuntimeError('swift-ring-builder %s rebalance: %s' % (name, res.stdout))


def _start_server(root, venv, name):
    conf = os.path.join(root, 'etc', '%s-server.conf' % name)
    with open(os.path.join(root, 'log', '%s.log' % name), 'ab') as out:
        # -v: log to stdout (the log file) since there may be no syslog.
        proc = subprocess.Popen([os.path.join(venv, 'bin', 'swift-%s-server' % name), conf,
                                 '-v'], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    with open(os.path.join(root, 'run', '%s.pid' % name), 'w') as f:
        f.write('%d\n' % proc.pid)
    return proc


def _wait(url, timeout, procs):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError('swift server %s exited with %s' % (proc.args[0],
                                                                        proc.returncode))
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError('swift did not answer on %s within %ds' % (url, timeout))


def start(root, venv, proxy_port, keystone_url=None, admin_password=None, timeout=60):
    """Configure, build rings, start the four servers and wait for them all."""
    ports = _storage_ports(root)
    fresh = ports is None
    if fresh:
        ports = {name: free_port() for name in ('account', 'container', 'object')}
    ports['proxy'] = proxy_port
    write_configs(root, ports, keystone_url, admin_password)
    if fresh:
        build_rings(root, venv, ports)
        with open(os.path.join(root, 'etc', 'ports.json'), 'w') as f:
            json.dump(ports, f)
    procs = []
    try:
        for name in SERVERS:
            procs.append(_start_server(root, venv, name))
        for name in SERVERS:
            # Storage servers answer 400 there: an answer is all we wait for.
            _wait('http://127.0.0.1:%d/healthcheck' % ports[name], timeout, procs)
    except BaseException:
        stop(root)
        raise
    return ports


def _storage_ports(root):
    """The storage servers' ports of an earlier start (the rings name them)."""
    try:
        with open(os.path.join(root, 'etc', 'ports.json')) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def running(root):
    """True when every server of ``root`` has a live pid file."""
    for name in SERVERS:
        try:
            with open(os.path.join(root, 'run', '%s.pid' % name)) as f:
                if not _alive(int(f.read().strip())):
                    return False
        except (OSError, ValueError):
            return False
    return True


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def stop(root, timeout=20):
    """SIGTERM each server by its pid file, SIGKILL what is left after ``timeout``."""
    pids = []
    for name in SERVERS:
        path = os.path.join(root, 'run', '%s.pid' % name)
        try:
            with open(path) as f:
                pids.append(int(f.read().strip()))
        except (OSError, ValueError):
            continue
        os.unlink(path)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + timeout
    for pid in pids:
        while _alive(pid) and time.time() < deadline:
            _reap(pid)
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        _reap(pid)


def _reap(pid):
    """Collect ``pid`` when it is our child (a zombie still answers kill 0)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='cmd', required=True)
    sub.add_parser('install').add_argument('venv')
    st = sub.add_parser('start')
    st.add_argument('dir')
    st.add_argument('venv')
    st.add_argument('--port', type=int, default=8080)
    st.add_argument('--keystone')
    st.add_argument('--password', help='the admin password of --keystone (default: '
                    'the OS_PASSWORD variable, which keeps it out of the process list)')
    sub.add_parser('stop').add_argument('dir')
    sub.add_parser('running').add_argument('dir')
    args = parser.parse_args(argv)
    if args.cmd == 'running':
        sys.exit(0 if running(args.dir) else 1)
    if args.cmd == 'install':
        print(install(args.venv))
    elif args.cmd == 'start':
        if running(args.dir):
            print('swift already running from %s' % args.dir)
            return
        install(args.venv)
        password = (args.password or os.environ.get('OS_PASSWORD')) if args.keystone else None
        start(args.dir, args.venv, args.port, args.keystone, password)
        print('swift proxy on http://127.0.0.1:%d' % args.port)
    else:
        stop(args.dir)


if __name__ == '__main__':
    main()
