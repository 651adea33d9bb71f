"""Writer addresses of the local driver: one loopback address per highly
available replica set that always leads to its primary.

A small forwarder process per set (``python -m trove.compute.local_writer
DIR``) listens on the set's own loopback address and the engine's ports and
relays every connection to the same port of the current primary.  Its
state is ``DIR/state.json`` (address, ports, target, pid, start time);
re-pointing it writes a new target and sends SIGHUP, upon which the
forwarder reads it and ends every connection it relays (a client of the
old primary reconnects to the new one at the same host:port).  It runs in
a session of its own, so it outlives the taskmanager and any server.
Outgoing connections leave from the writer address itself, which the
engines' access rules see as the client's address.
"""
import contextlib
import os
import shutil
import signal
import socket
import sys
import threading
import time

from oslo_log import log as logging

from trove.common import exception
from trove.compute import local_proc as proc
from trove.compute import local_state as state

LOG = logging.getLogger(__name__)
STATE = 'state.json'
BUFFER = 65536


def writers_dir(base_dir):
    return os.path.join(base_dir, 'writers')


def used_addresses(base_dir):
    """Addresses held by writer addresses (see local_state.used_addresses)."""
    return state.used_addresses(writers_dir(base_dir))


def _alive(data):
    info = proc.proc_stat(data['pid']) if data.get('pid') else None
    return bool(info) and info[2] == data.get('start_time') and info[0] not in ('Z', 'X')


def _listening(address, port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((address, port), 0.5):
            return True
        time.sleep(0.05)
    return False


def point(base_dir, set_id, target, ports, allocate):
    """Lead the writer address of ``set_id`` to ``target`` (an address) on
    ``ports``; starts its forwarder if it does not run.  ``allocate()``
    returns a free address (called under the driver lock).  Returns the
    writer address."""
    if not state.valid_id(set_id):
        raise exception.ComputeError(detail='invalid replica set id %r' % (set_id,))
    wdir = os.path.join(writers_dir(base_dir), set_id)
    path = os.path.join(wdir, STATE)
    ports = sorted(int(p) for p in ports)
    with state.locked(base_dir):
        data = state.read_json(path) or {}
        if not data.get('address'):
            os.makedirs(wdir, exist_ok=True)
            data['address'] = allocate()
        same = data.get('target') == target and data.get('ports') == ports
        restart = data.get('ports') != ports and _alive(data)
        data.update(target=target, ports=ports)
        state.write_json_atomic(path, data)
    if same and _alive(data):
        return data['address']   # connections through it stay
    if restart:
        stop(data)
    if _alive(data):
        os.kill(data['pid'], signal.SIGHUP)
        LOG.info('Writer address %s of set %s now leads to %s', data['address'], set_id,
                 target)
        return data['address']
    pid, _sid, start_time = proc.spawn(
        [sys.executable, '-m', 'trove.compute.local_writer', wdir], wdir,
        os.path.join(wdir, 'forwarder.log'))
    with state.locked(base_dir):
        data = state.read_json(path) or data
        data.update(pid=pid, start_time=start_time)
        state.write_json_atomic(path, data)
    if not all(_listening(data['address'], port, 10) for port in ports):
        raise exception.ComputeError(detail='the forwarder of writer address %s did not '
                                     'start (see %s)' % (data['address'], wdir))
    LOG.info('Writer address %s of set %s started, leading to %s', data['address'],
             set_id, target)
    return data['address']


def stop(data):
    if _alive(data):
        with contextlib.suppress(ProcessLookupError):
            os.kill(data['pid'], signal.SIGTERM)
        deadline = time.monotonic() + 5
        while _alive(data) and time.monotonic() < deadline:
            time.sleep(0.05)


def release(base_dir, set_id):
    """End the forwarder of ``set_id`` and free its address (idempotent)."""
    if not state.valid_id(set_id):
        return
    wdir = os.path.join(writers_dir(base_dir), set_id)
    data = state.read_json(os.path.join(wdir, STATE))
    if data:
        stop(data)
    shutil.rmtree(wdir, ignore_errors=True)


# -- the forwarder process ------------------------------------------------------

class Forwarder:
    """Relays connections on the writer address to the current target."""

    def __init__(self, wdir):
        self.path = os.path.join(wdir, STATE)
        self.lock = threading.Lock()
        self.pairs = set()
        self.data = state.read_json(self.path) or {}

    def reload(self):
        """New target: every relayed connection ends."""
        data = state.read_json(self.path)
        with self.lock:
            if data:
                self.data = data
            pairs, self.pairs = list(self.pairs), set()
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def serve(self, port):
        server = socket.create_server((self.data['address'], port), backlog=1024)
        while True:
            client, _ = server.accept()
            threading.Thread(target=self.relay, args=(client, port), daemon=True).start()

    def relay(self, client, port):
        target = self.data.get('target')
        try:
            upstream = socket.create_connection((target, port), timeout=5,
                                                source_address=(self.data['address'], 0))
        except (OSError, TypeError):
            client.close()
            return
        upstream.settimeout(None)
        pair = (client, upstream)
        with self.lock:
            self.pairs.add(pair)
        back = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
        back.start()
        _copy(client, upstream)
        back.join()
        with self.lock:
            self.pairs.discard(pair)
        for sock in pair:
            sock.close()


def _copy(src, dst):
    try:
        while True:
            data = src.recv(BUFFER)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    forwarder = Forwarder(argv[0])
    signal.signal(signal.SIGHUP, lambda *_: forwarder.reload())
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    for port in forwarder.data['ports']:
        threading.Thread(target=forwarder.serve, args=(port,), daemon=True).start()
    while True:
        signal.pause()


if __name__ == '__main__':
    main()
