"""Functional tests of the local compute driver with real processes.

The guest agent is replaced (``agent_argv``) by a python process that starts a
``sleep`` grandchild, the way the real agent starts the database engine in
its session.  No broker is needed.  Every process and directory created here
is removed again, also when an assertion fails.
"""
import os
import subprocess
import sys
import time

import pytest

from trove.compute import base
from trove.compute import local
from trove.compute import local_proc
from trove.conf import CONF

AGENT = [sys.executable, '-c',
         "import subprocess, time; subprocess.Popen(['sleep', '300']); time.sleep(300)"]
# An agent that ignores SIGTERM, to exercise the SIGKILL escalation.
STUBBORN = [sys.executable, '-c',
            "import signal, subprocess, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "subprocess.Popen(['sleep', '300']); time.sleep(300)"]
FILES = {'/etc/trove/conf.d/guest_info.conf': '[DEFAULT]\nguest_id = f1\n',
         '/etc/trove/conf.d/trove-guestagent.conf': '[DEFAULT]\ndebug = True\n'}


@pytest.fixture
def base_dir(tmp_path):
    path = tmp_path / 'local'
    CONF.set_override('base_dir', str(path), group='local')
    CONF.set_override('server_delete_time_out', 20)
    yield path
    # Clean up whatever a failing test left behind.
    cleaner = local.LocalDriver()
    for server in cleaner.list_servers():
        cleaner.delete_server(server.id)
    CONF.clear_override('base_dir', group='local')
    CONF.clear_override('server_delete_time_out')


def _gone(pid):
    info = local_proc.proc_stat(pid)
    return info is None or info[0] in ('Z', 'X')


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().split(b'\0')
    except OSError:
        return []


def _sleepers(members):
    return [p for p in members if _cmdline(p)[:1] == [b'sleep']]


def _wait_members(sid, start, count, timeout=10.0):
    """The session's members once there are ``count`` of them and the agent's
    ``sleep`` has exec'd (a child just forked still shows python's command
    line, which a slow machine makes visible)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        members = local_proc.session_members(sid, start)
        if len(members) >= count and _sleepers(members):
            return members
        time.sleep(0.05)
    raise AssertionError('session %s has %s, wanted %d members with a sleep'
                         % (sid, members, count))


def _create(driver, volume_id=None):
    return driver.create_server(name='db1', flavor_id='1', image_id=None,
                                volume_id=volume_id, files=FILES, userdata='#!/bin/sh\n',
                                metadata={'trove_instance_id': 'f1'})


def test_server_lifecycle(base_dir):
    driver = local.LocalDriver(agent_argv=AGENT)
    vol = driver.create_volume('trove-f1', 1)
    server = _create(driver, vol.id)
    sdir = base_dir / 'servers' / server.id
    st = driver._load(server.id)
    assert server.status == base.ACTIVE
    assert driver.server_address(server) == '127.77.0.2'
    assert st.sid == st.pid and os.getsid(st.pid) == st.pid
    assert (sdir / 'root' / 'etc' / 'trove' / 'conf.d' / 'guest_info.conf').exists()
    server_conf = (sdir / 'root' / 'etc' / 'trove' / 'conf.d' / 'server.conf').read_text()
    assert 'mount_point = %s\n' % vol.mount_point in server_conf
    assert (sdir / 'var' / 'log' / 'guestagent.log').exists()

    # Supervisor (the session leader), the agent it runs, the agent's child.
    members = _wait_members(st.sid, st.start_time, 3)
    assert _sleepers(members) and st.pid in members
    agent = driver.agent_status(server.id)['agent_pid']
    assert agent in members and agent != st.pid

    # A second driver (a restarted taskmanager) finds the server from disk.
    again = local.LocalDriver()
    assert again.get_server(server.id) == driver.get_server(server.id)
    assert [s.id for s in again.list_servers()] == [server.id]

    again.delete_server(server.id)
    assert all(_gone(p) for p in members)
    assert not sdir.exists()
    assert local_proc.session_members(st.sid, st.start_time) == []
    again.delete_server(server.id)
    driver.delete_volume(vol.id)
    assert not os.path.exists(vol.mount_point)


def test_shutdown_and_reboot(base_dir):
    driver = local.LocalDriver(agent_argv=AGENT)
    server = _create(driver)
    st = driver._load(server.id)
    old = _wait_members(st.sid, st.start_time, 3)
    driver.reboot_server(server.id)
    assert all(_gone(p) for p in old)
    new = driver._load(server.id)
    assert new.pid != st.pid and driver.get_server(server.id).status == base.ACTIVE
    _wait_members(new.sid, new.start_time, 3)
    # Killing the whole session by hand is a powered-off server.
    local_proc.power_off(new.sid, new.start_time, 10)
    assert driver.get_server(server.id).status == base.SHUTDOWN
    driver.delete_server(server.id)


def test_sigkill_escalation_spares_other_sessions(base_dir, monkeypatch):
    monkeypatch.setattr(local_proc, 'TERM_GRACE', 0.5)
    outsider = subprocess.Popen(['sleep', '300'], start_new_session=True)
    try:
        driver = local.LocalDriver(agent_argv=STUBBORN)
        server = _create(driver)
        st = driver._load(server.id)
        members = _wait_members(st.sid, st.start_time, 3)
        started = time.monotonic()
        driver.delete_server(server.id)
        assert time.monotonic() - started < 10
        assert all(_gone(p) for p in members)
        assert outsider.poll() is None
    finally:
        outsider.kill()
        outsider.wait()


def test_spawn_failure_is_error(base_dir):
    driver = local.LocalDriver(agent_argv=['/nonexistent/agent'])
    server = _create(driver)
    assert server.status == base.ERROR
    driver.delete_server(server.id)
    assert not (base_dir / 'servers' / server.id).exists()


def _agent(driver, server_id, other_than=None, timeout=10.0):
    """Pid of the supervised agent once one other than ``other_than`` runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = driver.agent_status(server_id) or {}
        pid = status.get('agent_pid')
        if status.get('state') == 'running' and pid and pid != other_than:
            return pid
        time.sleep(0.02)
    raise AssertionError('no new agent; supervisor status %r' % driver.agent_status(server_id))


def test_killed_agent_is_restarted_and_delete_ends_it(base_dir):
    driver = local.LocalDriver(agent_argv=AGENT)
    server = _create(driver)
    st = driver._load(server.id)
    first = _agent(driver, server.id)
    killed = time.monotonic()
    os.kill(first, 9)
    second = _agent(driver, server.id, other_than=first)
    # Backoff 0.5 s by default plus the start of a python process.
    assert time.monotonic() - killed < 3.0
    assert driver.get_server(server.id).status == base.ACTIVE
    assert driver.agent_status(server.id)['restarts'] == 1
    members = _wait_members(st.sid, st.start_time, 3)
    assert second in members
    # Power-off by delete: nothing comes back.
    driver.delete_server(server.id)
    assert all(_gone(p) for p in members + [first])
    assert local_proc.session_members(st.sid, st.start_time) == []


def test_agent_dying_again_and_again_is_an_error_server(base_dir):
    CONF.set_override('agent_restart_limit', 2, group='local')
    CONF.set_override('agent_restart_backoff', 0.05, group='local')
    try:
        driver = local.LocalDriver(agent_argv=[sys.executable, '-c', 'raise SystemExit(3)'])
        server = _create(driver)
        deadline = time.monotonic() + 10
        while driver.agent_fault(server.id) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        CONF.clear_override('agent_restart_limit', group='local')
        CONF.clear_override('agent_restart_backoff', group='local')
    fault = driver.agent_fault(server.id)
    assert fault and 'died 3 times' in fault and 'exit code 3' in fault
    assert driver.get_server(server.id).status == base.ERROR
    # A reboot is the repair: a fresh supervisor, the fault is gone until
    # the agent fails again.
    driver.agent_argv = AGENT
    driver.reboot_server(server.id)
    assert driver.agent_fault(server.id) is None
    assert driver.get_server(server.id).status == base.ACTIVE
    driver.delete_server(server.id)
