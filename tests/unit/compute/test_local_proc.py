"""Unit tests of the /proc helpers (read-only against this test process)."""
import contextlib
import os
import signal
import subprocess
import sys
import time

from trove.compute import local_proc


def test_proc_stat_of_self():
    state, sid, start = local_proc.proc_stat(os.getpid())
    assert state in 'RSD'
    assert sid == os.getsid(0)
    assert start > 0


def test_proc_stat_gone():
    assert local_proc.proc_stat(2 ** 22 + 7) is None


def test_session_members_finds_a_new_session():
    # The test process may sit in session 0 (a container's outer session),
    # so start a session of our own: a leader and one child of it.
    leader = subprocess.Popen(
        [sys.executable, '-c',
         'import subprocess, sys, time; '
         'c = subprocess.Popen([sys.executable, "-c", '
         '"import time; time.sleep(30)"]); '
         'print(c.pid, flush=True); time.sleep(30)'],
        stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        child = int(leader.stdout.readline())
        start = local_proc.proc_stat(leader.pid)[2]
        members = local_proc.session_members(leader.pid, start)
        assert sorted(members) == sorted([leader.pid, child])
        assert os.getpid() not in members
    finally:
        os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()
        leader.stdout.close()


def test_session_members_rejects_reused_leader():
    # A leader alive with another start time means the sid was reused.
    sid = os.getpid()
    real = local_proc.proc_stat(sid)[2]
    assert local_proc.session_members(sid, real + 1) == []


def test_session_members_empty_sid():
    assert local_proc.session_members(None, None) == []


def test_session_alive_with_leader_gone_looks_at_members():
    # The leader exits and leaves its child behind in the session.
    leader = subprocess.Popen(
        [sys.executable, '-c',
         'import subprocess, sys; '
         'c = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]); '
         'print(c.pid, flush=True)'],
        stdout=subprocess.PIPE, text=True, start_new_session=True)
    start = local_proc.proc_stat(leader.pid)[2]
    child = int(leader.stdout.readline())
    leader.wait()
    leader.stdout.close()
    try:
        assert local_proc.session_alive(leader.pid, start)
        os.kill(child, signal.SIGKILL)
        for _ in range(100):
            if not local_proc.session_alive(leader.pid, start):
                break
            time.sleep(0.05)
        assert not local_proc.session_alive(leader.pid, start)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def test_session_alive_from_a_live_leader_without_scanning(monkeypatch):
    leader = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'],
                              start_new_session=True)
    try:
        start = local_proc.proc_stat(leader.pid)[2]
        monkeypatch.setattr(local_proc, 'session_members', lambda *a: [])
        assert local_proc.session_alive(leader.pid, start)
        # A reused leader pid is not the server's session.
        assert not local_proc.session_alive(leader.pid, start + 1)
    finally:
        leader.kill()
        leader.wait()


def test_reap_tolerates_another_thread_reaping():
    class Done:
        def poll(self):
            local_proc._CHILDREN.pop(12345, None)  # the other thread was quicker
            return 0
    local_proc._CHILDREN[12345] = Done()
    local_proc._reap()
    assert 12345 not in local_proc._CHILDREN


def test_agent_env_has_source_tree():
    import trove
    src = os.path.dirname(os.path.dirname(os.path.abspath(trove.__file__)))
    env = local_proc.agent_env()
    assert env['PYTHONPATH'].split(os.pathsep)[0] == src


def test_spawn_nices_the_session(tmp_path):
    pid, sid, start = local_proc.spawn(
        [sys.executable, '-c', 'import os, time; print(os.nice(0), flush=True); time.sleep(30)'],
        str(tmp_path), str(tmp_path / 'log' / 'agent.log'), env=dict(os.environ), nice=7)
    try:
        assert pid == sid
        for _ in range(100):
            out = (tmp_path / 'log' / 'agent.log').read_text()
            if out:
                break
            time.sleep(0.05)
        assert out.split() == ['7']
        if os.path.exists('/proc/%d/autogroup' % pid):
            with open('/proc/%d/autogroup' % pid) as f:
                assert f.read().split()[-1] == '7'  # "/autogroup-N nice 7"
        # nice(1) exec'd the agent: same pid, the start time spawn recorded.
        assert local_proc.proc_stat(pid)[2] == start
    finally:
        os.kill(pid, signal.SIGKILL)
        local_proc._CHILDREN.pop(pid).wait()


def test_niced_without_nice_is_the_command():
    assert local_proc.niced(['a', 'b'], 0) == ['a', 'b']
    assert local_proc.niced(['a'], 3)[1:] == ['-n', '3', 'a']
