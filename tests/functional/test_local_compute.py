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

    members = _wait_members(st.sid, st.start_time, 2)
    assert _sleepers(members) and st.pid in members

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
    old = _wait_members(st.sid, st.start_time, 2)
    driver.reboot_server(server.id)
    assert all(_gone(p) for p in old)
    new = driver._load(server.id)
    assert new.pid != st.pid and driver.get_server(server.id).status == base.ACTIVE
    _wait_members(new.sid, new.start_time, 2)
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
        members = _wait_members(st.sid, st.start_time, 2)
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
