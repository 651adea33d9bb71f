"""A private redis-server for the coordination backend of a test.

Its own port, directory and no persistence, so it never touches the
machine's shared Redis; ended by its own PID.
"""
import shutil
import socket
import subprocess
import tempfile
import time

from tests.functional.stack import end_process, free_port


class PrivateRedis:
    """``start()``, ``url`` for tooz, ``stop()``."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='trove-redis-')
        self.port = free_port()
        self.proc = None

    def url(self, timeout=3):
        """tooz URL; ``timeout`` is how long a dead member's locks and
        membership last (seconds)."""
        return 'redis://127.0.0.1:%d?timeout=%d' % (self.port, timeout)

    def start(self, timeout=20):
        self.proc = subprocess.Popen(
            ['redis-server', '--port', str(self.port), '--bind', '127.0.0.1',
             '--dir', self.dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no',
             '--logfile', '%s/redis.log' % self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('redis-server exited; see %s/redis.log' % self.dir)
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=1) as s:
                    s.sendall(b'PING\r\n')
                    if s.recv(16).startswith(b'+PONG'):
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError('redis-server did not answer on port %d' % self.port)

    def stop(self):
        end_process(self.proc, 10)
        shutil.rmtree(self.dir, ignore_errors=True)
