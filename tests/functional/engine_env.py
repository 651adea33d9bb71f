"""Shared set-up for tests that drive one engine manager directly.

Each test module gets a private tmp dir (volume and state dir), its own
127.77.x.y address and a free port, so a system engine is never touched.
Teardown stops every engine the test built and then kills, by pid, any
engine process that still names the private dir or address.
"""
import contextlib
import os
import shutil
import signal
import socket
import tempfile

import pytest

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines import process


def ensure_engine(binaries, packages, what, **kwargs):
    """Install the engine when missing; skip the module when it cannot be."""
    try:
        process.ensure_packages(binaries, packages, **kwargs)
    except exception.TroveError:
        pytest.skip('%s is missing and cannot be installed' % what)


def new_engine(env, cls):
    """A new engine manager ``cls()`` that the teardown will stop."""
    eng = cls()
    env['engines'].append(eng)
    return eng


def free_port(address):
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def engine_pids(programs, markers):
    """Pids of processes named one of ``programs`` whose command line
    contains one of ``markers`` (our dir, our address)."""
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                text = f.read().decode(errors='replace')
        except OSError:
            continue
        words = text.replace('\0', ' ').split()
        if words and os.path.basename(words[0]) in programs and \
                any(m in text for m in markers):
            pids.append(int(entry))
    return pids


@contextlib.contextmanager
def engine_env(address, group, programs, prefix):
    """CONF pointed at a private dir, address and port; yields a dict with
    ``base``, ``port``, ``address``, ``markers`` and ``engines`` (append
    every engine built so teardown stops it)."""
    base = tempfile.mkdtemp(prefix=prefix)
    overrides = {'mount_point': os.path.join(base, 'vol'),
                 'guest_state_dir': os.path.join(base, 'state'),
                 'host_address': address, 'state_change_wait_time': 60}
    for key, value in overrides.items():
        CONF.set_override(key, value)
    port = free_port(address)
    CONF.set_override('port', port, group=group)
    markers = (base, '%s:%d' % (address, port))
    env = {'base': base, 'port': port, 'address': address, 'markers': markers,
           'engines': []}
    try:
        yield env
    finally:
        for eng in env['engines']:
            with contextlib.suppress(Exception):
                eng.stop()
        for pid in engine_pids(programs, markers):
            os.kill(pid, signal.SIGKILL)
        for key in overrides:
            CONF.clear_override(key)
        CONF.clear_override('port', group=group)
        shutil.rmtree(base, ignore_errors=True)
