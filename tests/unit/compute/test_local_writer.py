"""The local driver's writer address: a real forwarder process between
loopback addresses, re-pointed the way a failover moves it."""
import random
import socket
import threading
import time

import pytest

from trove.compute import local_proc
from trove.compute import local_state
from trove.compute import local_writer


def _prefix():
    return '127.%d.%d' % (random.randint(100, 250), random.randint(1, 250))


class Server(threading.Thread):
    """Answers every connection with its name, then echoes until closed."""

    def __init__(self, address, port, name):
        super().__init__(daemon=True)
        self.sock = socket.create_server((address, port))
        self.name = name

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        with conn:
            conn.sendall(self.name.encode())
            while (data := conn.recv(100)):
                conn.sendall(data)


def _free_port(address):
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _hello(address, port):
    conn = socket.create_connection((address, port), timeout=5)
    return conn, conn.recv(10).decode()


@pytest.fixture
def two_servers():
    prefix = _prefix()
    a, b, w = prefix + '.1', prefix + '.2', prefix + '.3'
    port = _free_port(a)
    servers = [Server(a, port, 'A'), Server(b, port, 'B')]
    for s in servers:
        s.start()
    yield a, b, w, port
    for s in servers:
        s.sock.close()


def test_the_writer_address_follows_the_primary_and_drops_old_connections(tmp_path,
                                                                          two_servers):
    a, b, w, port = two_servers
    assert local_writer.point(str(tmp_path), 'set-1', a, [port], lambda: w) == w
    data = local_state.read_json(str(tmp_path / 'writers/set-1/state.json'))
    assert local_proc.proc_stat(data['pid'])
    try:
        conn, name = _hello(w, port)
        assert name == 'A'
        conn.sendall(b'ping')
        assert conn.recv(10) == b'ping'
        # The same target again (a rejoin pushes the settings again): kept.
        assert local_writer.point(str(tmp_path), 'set-1', a, [port], lambda: 'unused') == w
        conn.sendall(b'still')
        assert conn.recv(10) == b'still'
        # A failover: the next connection reaches B, the old one ends.
        assert local_writer.point(str(tmp_path), 'set-1', b, [port], lambda: 'unused') == w
        conn.settimeout(5)
        assert conn.recv(10) == b''
        conn.close()
        assert _hello(w, port)[1] == 'B'
    finally:
        local_writer.release(str(tmp_path), 'set-1')
    deadline = time.time() + 5
    while local_proc.proc_stat(data['pid']) and time.time() < deadline:
        time.sleep(0.05)
    info = local_proc.proc_stat(data['pid'])
    assert info is None or info[0] == 'Z'
    with pytest.raises(OSError):
        socket.create_connection((w, port), timeout=1)
    assert not (tmp_path / 'writers' / 'set-1').exists()
    assert local_writer.used_addresses(str(tmp_path)) == set()
