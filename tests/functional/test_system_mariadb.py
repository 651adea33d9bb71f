"""bin/lib/common.sh starts a MariaDB server the way a fresh Debian needs.

ensure_mariadb_server (what bin/run-tests calls for 127.0.0.1:3306) is run
against private servers: their own port, datadir, run dir and output file
(TROVE_MARIADB_*), with --no-defaults so the machine's own server and its
configuration are never touched.  Every server started is killed by the pid
in its pid file, and the directory removed.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pymysql
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def servers():
    """new(name, **env) -> (completed ensure_mariadb_server, its settings)."""
    if os.geteuid() != 0:
        pytest.skip('starting a server as the mysql user needs root')
    pwd.getpwnam('mysql')  # installed with mariadb-server
    base = tempfile.mkdtemp(prefix='trove-sysdb-')
    os.chmod(base, 0o755)  # the mysql user must reach its datadir
    started = []

    def new(name, **extra):
        cfg = {'port': _free_port(), 'dir': os.path.join(base, name)}
        env = dict(os.environ, TROVE_MARIADB_PORT=str(cfg['port']),
                   TROVE_MARIADB_DATADIR=os.path.join(cfg['dir'], 'data'),
                   TROVE_MARIADB_RUNDIR=os.path.join(cfg['dir'], 'run'),
                   TROVE_MARIADB_OUTPUT=os.path.join(cfg['dir'], 'out.log'),
                   TROVE_MARIADB_FIRST_ARGS='--no-defaults', **extra)
        started.append(os.path.join(cfg['dir'], 'run', 'mysqld.pid'))
        res = subprocess.run(['bash', '-c', 'source bin/lib/common.sh; ensure_mariadb_server'],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        return res, cfg

    try:
        yield new
    finally:
        for pidfile in started:
            try:
                pid = int(open(pidfile).read())
            except (OSError, ValueError):
                continue
            os.kill(pid, signal.SIGKILL)
            for _ in range(100):
                if not os.path.exists('/proc/%d' % pid):
                    break
                time.sleep(0.1)
        shutil.rmtree(base, ignore_errors=True)


def _server_uid(cfg):
    pid = int(open(os.path.join(cfg['dir'], 'run', 'mysqld.pid')).read())
    with open('/proc/%d/status' % pid) as f:
        uid = next(line.split()[1] for line in f if line.startswith('Uid:'))
    return pwd.getpwuid(int(uid)).pw_name


def test_starts_a_server_while_other_mariadbd_run(servers):
    """A running mariadbd elsewhere (like a guest's engine) is not taken for
    the server wanted; a fresh datadir is initialised; the server runs as
    mysql and lets the OS root in over its socket."""
    first, cfg1 = servers('one')
    assert first.returncode == 0, first.stdout + first.stderr
    assert 'Initialising the MariaDB datadir' in first.stdout
    second, cfg2 = servers('two')
    assert second.returncode == 0, second.stdout + second.stderr
    assert 'answers on 127.0.0.1:%d' % cfg2['port'] in second.stdout
    for cfg in (cfg1, cfg2):
        assert _server_uid(cfg) == 'mysql'
        conn = pymysql.connect(unix_socket=os.path.join(cfg['dir'], 'run', 'mysqld.sock'),
                               user='root', connect_timeout=5)
        with conn.cursor() as cur:
            cur.execute('SELECT @@port')
            assert cur.fetchone() == (cfg['port'],)
        conn.close()


def test_a_server_that_exits_shows_why(servers):
    start = time.monotonic()
    res, _ = servers('bad', TROVE_MARIADB_EXTRA_ARGS='--no-such-option')
    assert res.returncode == 1
    assert time.monotonic() - start < 30  # not the 60 s timeout
    assert "unknown option '--no-such-option'" in res.stderr
    assert 'exited before answering' in res.stderr
