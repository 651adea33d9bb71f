"""Unit tests of the /proc helpers (read-only against this test process)."""
import os
import signal
import subprocess
import sys

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


def test_agent_env_has_source_tree():
    import trove
    src = os.path.dirname(os.path.dirname(os.path.abspath(trove.__file__)))
    env = local_proc.agent_env()
    assert env['PYTHONPATH'].split(os.pathsep)[0] == src
