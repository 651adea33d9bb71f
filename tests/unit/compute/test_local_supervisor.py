"""Unit tests of the guest agent supervisor (restart policy and loop).

The loop tests run real short-lived python children, so exit codes and
signals are the kernel's; no test waits longer than a couple of seconds.
"""
import json
import os
import signal
import subprocess
import sys
import time

from trove.compute import local_supervisor as sup


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_backoff_doubles_and_is_capped():
    clock = Clock()
    policy = sup.Policy(backoff=0.5, backoff_max=3.0, max_deaths=10, window=100,
                        clock=clock)
    delays = [policy.record_death(ran_for=1) for _ in range(5)]
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_stable_run_resets_the_backoff():
    policy = sup.Policy(backoff=0.5, max_deaths=10, stable=30, clock=Clock())
    policy.record_death(ran_for=1)
    policy.record_death(ran_for=1)
    assert policy.record_death(ran_for=60) == 0.5


def test_start_limit_counts_deaths_in_the_window_only():
    clock = Clock()
    policy = sup.Policy(max_deaths=2, window=10, clock=clock)
    assert policy.record_death(1) is not None
    assert policy.record_death(1) is not None
    clock.now = 11.0  # both earlier deaths are out of the window
    assert policy.record_death(1) is not None
    clock.now = 12.0
    assert policy.record_death(1) is not None
    assert policy.record_death(1) is None


def test_describe_exit():
    assert sup.describe_exit(3) == 'exit code 3'
    assert sup.describe_exit(-9) == 'signal 9 (SIGKILL)'


def _script(tmp_path, body):
    path = tmp_path / 'agent.py'
    path.write_text(body)
    return [sys.executable, str(path)]


def test_restarts_a_killed_agent_then_gives_up(tmp_path):
    runs = tmp_path / 'runs'
    argv = _script(tmp_path, 'import os\nopen(%r, "a").write("x")\n'
                             'os.kill(os.getpid(), 9)\n' % str(runs))
    status = tmp_path / 'status.json'
    s = sup.Supervisor(argv, str(status), sup.Policy(backoff=0.01, max_deaths=2))
    assert s.run() == 1
    assert runs.read_text() == 'xxx'  # first run plus two restarts
    data = json.loads(status.read_text())
    assert data['state'] == sup.FAILED and data['restarts'] == 2
    assert 'died 3 times' in data['fault'] and 'SIGKILL' in data['fault']


def test_clean_exit_is_not_restarted(tmp_path):
    runs = tmp_path / 'runs'
    argv = _script(tmp_path, 'open(%r, "a").write("x")\n' % str(runs))
    status = tmp_path / 'status.json'
    assert sup.Supervisor(argv, str(status), sup.Policy(backoff=0.01)).run() == 0
    assert runs.read_text() == 'x'
    assert json.loads(status.read_text())['state'] == sup.STOPPED


def _wait(cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError('condition not met')


def _status(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _pid_gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open('/proc/%d/stat' % pid) as f:
        return f.read().rsplit(')', 1)[1].split()[0] == 'Z'


def test_process_restarts_agent_and_stops_on_sigterm(tmp_path):
    """The real entry point: kill -9 the agent, a new one comes; SIGTERM ends both."""
    status = tmp_path / 'status.json'
    agent = [sys.executable, '-c', 'import time; time.sleep(60)']
    proc = subprocess.Popen(sup.command(sys.executable, str(status), agent,
                                        sup.Policy(backoff=0.1)),
                            start_new_session=True)
    try:
        first = _wait(lambda: (_status(status) or {}).get('agent_pid'))
        os.kill(first, signal.SIGKILL)
        second = _wait(lambda: (_status(status) or {}).get('agent_pid') not in (None, first)
                       and _status(status)['agent_pid'])
        assert _status(status)['restarts'] == 1 and _status(status)['state'] == sup.RUNNING
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert _pid_gone(second)
        assert _status(status)['state'] == sup.STOPPED
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
