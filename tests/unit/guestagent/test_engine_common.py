"""Shared engine parts: the child process, files and secrets, name checks."""
import os
import signal
import stat
import subprocess
import sys

import pytest

from trove.common import exception
from trove.guestagent.engines import process
from trove.guestagent.engines.common import child, files, names

# A stand-in engine: writes its pid file, removes it on SIGTERM (like every
# engine here on a clean shutdown), and is a 'python' program by argv[0].
FAKE_ENGINE = '''
import os, signal, sys, time
pid_file = sys.argv[1]
def bye(*_):
    os.unlink(pid_file)
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
time.sleep(float(sys.argv[2]))
with open(pid_file, 'w') as f:
    f.write('%d\\nextra line\\n' % os.getpid())
while True:
    time.sleep(0.05)
'''
PROGRAM = os.path.basename(sys.executable)


@pytest.fixture
def proc(tmp_path):
    p = child.ChildProcess('fake', (PROGRAM,), str(tmp_path / 'e.pid'),
                           str(tmp_path / 'console.log'))
    yield p
    pid = p.running_pid()
    if pid:
        os.kill(pid, signal.SIGKILL)
        p.child_exited()  # reap


def _spawn(proc, tmp_path, delay=0.0):
    return proc.spawn([sys.executable, '-c', FAKE_ENGINE, proc.pid_file, str(delay)])


def test_lifecycle_and_crash(proc, tmp_path):
    assert proc.process_state() == 'stopped'
    pid = _spawn(proc, tmp_path)
    proc.wait_ready(lambda: proc.read_pid() == pid, 10, lambda: '')
    assert proc.process_state() == 'running'
    assert _spawn(proc, tmp_path) == pid  # already running: no second engine
    # A new agent finds the engine through the pid file.
    other = child.ChildProcess('fake', (PROGRAM,), proc.pid_file, proc.console_log)
    assert other.running_pid() == pid
    proc.terminate(10)
    assert proc.process_state() == 'stopped'
    pid = _spawn(proc, tmp_path)
    proc.wait_ready(lambda: proc.read_pid() == pid, 10, lambda: '')
    os.kill(pid, signal.SIGKILL)
    # An unreaped zombie already counts as gone.
    assert process.wait_for(lambda: proc.process_state() == 'crashed', 5)


def test_starting_state_and_reused_pid(proc, tmp_path):
    _spawn(proc, tmp_path, delay=5)
    assert proc.process_state() == 'starting'
    other = subprocess.Popen(['sleep', '30'])
    try:
        with open(proc.pid_file, 'w') as f:
            f.write('%d\n' % other.pid)  # a live pid that is not the engine
        assert not proc.is_engine(other.pid)
        fresh = child.ChildProcess('fake', (PROGRAM,), proc.pid_file, proc.console_log)
        assert fresh.running_pid() is None
        assert fresh.process_state() == 'crashed'
    finally:
        other.kill()
        other.wait()


def test_wait_ready_reports_an_early_exit(proc, tmp_path):
    proc.spawn([sys.executable, '-c', 'import sys; print("boom"); sys.exit(3)'])
    with pytest.raises(exception.EngineError) as err:
        proc.wait_ready(lambda: False, 10, lambda: 'the log tail')
    assert 'exited during start' in err.value.msg and 'the log tail' in err.value.msg


def test_wait_ready_times_out(proc, tmp_path):
    _spawn(proc, tmp_path, delay=30)
    with pytest.raises(exception.EngineError) as err:
        proc.wait_ready(lambda: False, 0.3, lambda: '')
    assert 'did not answer' in err.value.msg


def test_secret_file(tmp_path):
    secret = files.SecretFile(str(tmp_path / 's'))
    with pytest.raises(exception.EngineError):
        secret.read()
    password = secret.ensure()
    assert len(password) >= 24 and secret.ensure() == password
    assert stat.S_IMODE(os.stat(secret.path).st_mode) == 0o600
    secret.write('other')
    assert secret.read() == 'other'


def test_write_file_is_atomic_and_sets_mode(tmp_path):
    path = str(tmp_path / 'f.conf')
    files.write_file(path, 'a\n', mode=0o640)
    files.write_file(path, 'b\n', mode=0o640)
    assert open(path).read() == 'b\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.listdir(tmp_path) == ['f.conf']


def test_name_check():
    assert names.check('Name', 'ok_name-1.x') == 'ok_name-1.x'
    for bad in ('', None, 'a b', 'x;drop', 'a' * 65):
        with pytest.raises(exception.BadRequest):
            names.check('Name', bad)


# Refuses the first SIGTERM and forgets it, as redis-server does while it
# writes its first AOF after a replica sync.
STUBBORN_ENGINE = '''
import os, signal, sys, time
pid_file = sys.argv[1]
asked = []
def bye(*_):
    asked.append(1)
    if len(asked) > 1:
        os.unlink(pid_file)
        sys.exit(0)
signal.signal(signal.SIGTERM, bye)
with open(pid_file, 'w') as f:
    f.write('%d\\n' % os.getpid())
while True:
    time.sleep(0.05)
'''


def test_terminate_asks_again_when_the_engine_forgets(tmp_path):
    stubborn = child.ChildProcess('fake', (PROGRAM,), str(tmp_path / 's.pid'),
                                  str(tmp_path / 'console.log'), resignal_interval=0.5)
    pid = stubborn.spawn([sys.executable, '-c', STUBBORN_ENGINE, stubborn.pid_file])
    try:
        stubborn.wait_ready(lambda: stubborn.read_pid() == pid, 10, lambda: '')
        stubborn.terminate(10)
        assert stubborn.process_state() == 'stopped'
    finally:
        if process.pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_engine_env_is_the_users_own():
    """A command run as another user gets that user's HOME, not the agent's."""
    import pwd
    me = pwd.getpwuid(os.getuid())
    env = files.engine_env((me.pw_uid, me.pw_gid), {'HOME': '/elsewhere', 'PATH': '/bin'})
    assert env == {'HOME': me.pw_dir, 'USER': me.pw_name, 'LOGNAME': me.pw_name,
                   'PATH': '/bin'}
    kept = {'HOME': '/elsewhere'}
    assert files.engine_env(None, kept) is kept


@pytest.mark.skipif(files.engine_ids('nobody') is None, reason='needs root and user nobody')
def test_run_as_engine_user_sets_its_home():
    import pwd
    out = process.run(['/bin/sh', '-c', 'echo "$HOME"'],
                      ids=files.engine_ids('nobody'), cwd='/').stdout.strip()
    assert out == pwd.getpwnam('nobody').pw_dir != os.environ.get('HOME')
