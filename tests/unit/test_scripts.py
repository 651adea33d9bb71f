"""Static checks of the shell scripts, the devstack plugin and the systemd units.

shellcheck and systemd-analyze come from the Debian packages that
bin/lib/common.sh installs (TROVE_DEB_PACKAGES); a machine without them fails
here rather than skipping.
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNITS = sorted(glob.glob(os.path.join(REPO, 'etc', 'systemd', '*.service')))
SCRIPTS = sorted(glob.glob(os.path.join(REPO, 'bin', '*.sh'))
                 + [os.path.join(REPO, 'bin', 'run-tests')]
                 + glob.glob(os.path.join(REPO, 'bin', 'lib', '*.sh'))
                 + [os.path.join(REPO, 'devstack', 'plugin.sh'),
                    os.path.join(REPO, 'devstack', 'settings'),
                    os.path.join(REPO, 'tests', 'fresh', 'run-in-debootstrap'),
                    os.path.join(REPO, 'tests', 'fresh', 'inner.sh'),
                    os.path.join(REPO, 'tools', 'guest-image', 'build'),
                    os.path.join(REPO, 'tools', 'guest-image', 'upload'),
                    os.path.join(REPO, '.ci', 'run')])
DAEMONS = ('trove-api', 'trove-taskmanager', 'trove-conductor', 'trove-guestagent')


def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.fail('%s is missing: run bin/run-tests (it installs the Debian packages '
                    'of bin/lib/common.sh) or apt-get install it' % name)
    return path


def test_every_daemon_has_a_unit():
    assert [os.path.basename(u) for u in UNITS] == sorted(d + '.service' for d in DAEMONS)


@pytest.mark.parametrize('script', SCRIPTS, ids=lambda p: os.path.relpath(p, REPO))
def test_shellcheck(script):
    res = subprocess.run([_tool('shellcheck'), '--external-sources', '--severity=style',
                          os.path.relpath(script, REPO)],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_shellcheck_is_not_toothless(tmp_path):
    bad = tmp_path / 'bad.sh'
    bad.write_text('#!/bin/bash\nrm -rf $1/*\n')
    res = subprocess.run([_tool('shellcheck'), str(bad)], capture_output=True, text=True)
    assert res.returncode != 0 and 'SC2086' in res.stdout


def _fake_root(tmp_path, with_binaries=True):
    """A --root for systemd-analyze: the host's system units plus fake daemons."""
    root = tmp_path / 'root'
    (root / 'usr' / 'lib' / 'systemd').mkdir(parents=True)
    shutil.copytree('/usr/lib/systemd/system', root / 'usr' / 'lib' / 'systemd' / 'system',
                    symlinks=True)
    (root / 'etc' / 'systemd' / 'system').mkdir(parents=True)
    bindir = root / 'usr' / 'local' / 'bin'
    bindir.mkdir(parents=True)
    if with_binaries:
        for name in DAEMONS:
            (bindir / name).write_text('#!/bin/sh\nexit 0\n')
            (bindir / name).chmod(0o755)
    return root


def _verify(root, unit_path):
    target = root / 'etc' / 'systemd' / 'system' / os.path.basename(unit_path)
    shutil.copy(unit_path, target)
    return subprocess.run([_tool('systemd-analyze'), 'verify', '--man=no', '--generators=no',
                           '--root=%s' % root, str(target)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize('unit', UNITS, ids=os.path.basename)
def test_systemd_unit_verifies(unit, tmp_path):
    res = _verify(_fake_root(tmp_path), unit)
    # Unknown keys are only warnings: demand a silent, successful verify.
    assert res.returncode == 0 and not res.stderr.strip() and not res.stdout.strip(), \
        res.stdout + res.stderr
    text = open(unit).read()
    assert 'ExecStart=/usr/local/bin/' in text and 'Restart=' in text
    assert 'User=' in text and 'NoNewPrivileges=yes' in text


def test_systemd_verify_catches_mistakes(tmp_path):
    unit = UNITS[0]
    res = _verify(_fake_root(tmp_path, with_binaries=False), unit)
    assert res.returncode != 0 and 'not executable' in res.stderr
    broken = tmp_path / 'trove-broken.service'
    broken.write_text(open(unit).read().replace('[Service]', '[Service]\nRestrt=always'))
    res = _verify(_fake_root(tmp_path / 'b'), str(broken))
    assert "Unknown key name 'Restrt'" in res.stderr or 'Restrt' in res.stderr


def test_control_plane_units_run_unprivileged():
    for unit in UNITS:
        text = open(unit).read()
        if 'guestagent' in unit:
            assert '--config-dir /etc/trove/conf.d' in text
            continue
        assert 'User=trove' in text and 'ProtectSystem=strict' in text
        assert 'CapabilityBoundingSet=\n' in text


# systemd's exposure score (0 safest .. 100): the control plane runs with the
# "OK" level of hardening; the guest agent must stay root (it installs
# packages and mounts the volume), so it only has to stay below "EXPOSED".
EXPOSURE_LIMIT = {'trove-guestagent.service': 75}


@pytest.mark.parametrize('unit', UNITS, ids=os.path.basename)
def test_systemd_unit_exposure(unit, tmp_path):
    root = _fake_root(tmp_path)
    target = root / 'etc' / 'systemd' / 'system' / os.path.basename(unit)
    shutil.copy(unit, target)
    limit = EXPOSURE_LIMIT.get(os.path.basename(unit), 40)
    res = subprocess.run([_tool('systemd-analyze'), 'security', '--offline=true',
                          '--threshold=%d' % limit, '--root=%s' % root, str(target)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr
    assert 'Overall exposure level' in res.stdout


# ---- bin/lib/common.sh: how the system MariaDB server is recognised ----

def _common_sh(snippet, **env):
    """Run ``snippet`` in bash after sourcing bin/lib/common.sh."""
    full = dict(os.environ, **env)
    return subprocess.run(['bash', '-c', 'source bin/lib/common.sh; ' + snippet],
                          cwd=REPO, env=full, capture_output=True, text=True, timeout=60)


@pytest.fixture
def named_process(tmp_path):
    """start(name): a real process whose name (comm) is ``name``; killed after."""
    procs = []

    def start(name):
        exe = tmp_path / name
        shutil.copy(shutil.which('sleep'), exe)
        procs.append(subprocess.Popen([str(exe), '60']))
        return procs[-1].pid

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_system_mariadb_pid_is_read_from_the_pid_file(tmp_path, named_process):
    pidfile = tmp_path / 'mysqld.pid'
    env = {'TROVE_MARIADB_PIDFILE': str(pidfile)}
    assert _common_sh('system_mariadb_pid', **env).returncode == 1  # no file
    server = named_process('mariadbd')
    pidfile.write_text('%d\n' % server)
    res = _common_sh('system_mariadb_pid', **env)
    assert res.returncode == 0 and res.stdout.strip() == str(server)
    # A pid that another program has now, a dead pid, garbage: not a server.
    pidfile.write_text('%d\n' % named_process('sleep'))
    assert _common_sh('system_mariadb_pid', **env).returncode == 1
    dead = subprocess.Popen(['true'])
    dead.wait()
    pidfile.write_text('%d\n' % dead.pid)
    assert _common_sh('system_mariadb_pid', **env).returncode == 1
    pidfile.write_text('not a pid\n')
    assert _common_sh('system_mariadb_pid', **env).returncode == 1


def test_a_server_that_answers_is_used_as_it_is(tmp_path):
    with socket.create_server(('127.0.0.1', 0)) as srv:
        port = srv.getsockname()[1]
        res = _common_sh('ensure_mariadb_server', TROVE_MARIADB_PORT=str(port),
                         TROVE_MARIADB_DATADIR=str(tmp_path / 'data'),
                         TROVE_MARIADB_RUNDIR=str(tmp_path / 'run'))
    assert res.returncode == 0, res.stderr
    assert 'answers on 127.0.0.1:%d' % port in res.stdout
    assert not (tmp_path / 'data').exists() and not (tmp_path / 'run').exists()


def test_a_starting_server_is_waited_for_and_its_exit_reported(tmp_path, named_process):
    """Alive per its pid file but silent: waited for (not started twice);
    when it ends, the failure says so at once."""
    pidfile = tmp_path / 'mysqld.pid'
    server = named_process('mariadbd')
    pidfile.write_text('%d\n' % server)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(['bash', '-c', 'source bin/lib/common.sh; ensure_mariadb_server'],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, TROVE_MARIADB_PORT=str(port),
                                     TROVE_MARIADB_PIDFILE=str(pidfile),
                                     TROVE_MARIADB_OUTPUT=str(tmp_path / 'out')))
    time.sleep(2)
    assert proc.poll() is None
    os.kill(server, signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert 'pid %d' % server in out and 'is starting' in out
    assert 'exited before answering on 127.0.0.1:%d' % port in err
    assert not (tmp_path / 'out').exists()  # nothing was started


# ---- tests/fresh/proxy.py: the test root's only way out ----

def test_fresh_proxy_refuses_what_is_not_a_registry(tmp_path):
    """Through the relay (a TCP port) and the Unix socket: a host that is not
    listed, or a listed one on another port, gets 403 and no connection."""
    proxy = os.path.join(REPO, 'tests', 'fresh', 'proxy.py')
    sock = str(tmp_path / 'proxy.sock')
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    procs = [subprocess.Popen([sys.executable, proxy, 'serve', sock, 'registry.invalid'],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)]
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        procs.append(subprocess.Popen([sys.executable, proxy, 'relay', str(port), sock]))
        answers = []
        for request in (b'GET http://elsewhere.invalid/x HTTP/1.1\r\n'
                        b'Host: elsewhere.invalid\r\n\r\n',
                        b'CONNECT registry.invalid:22 HTTP/1.1\r\n\r\n'):
            while True:
                try:
                    conn = socket.create_connection(('127.0.0.1', port), timeout=10)
                    break
                except ConnectionRefusedError:
                    assert time.monotonic() < deadline, 'the relay did not listen'
                    time.sleep(0.05)
            with conn:
                conn.sendall(request)
                answers.append(conn.recv(4096))
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    assert all(a.startswith(b'HTTP/1.1 403 ') for a in answers), answers
    log = procs[0].stdout.read()
    assert 'DENY GET http://elsewhere.invalid/x' in log
    assert 'DENY CONNECT registry.invalid:22' in log
