"""A private RabbitMQ node for tests that restart the broker.

Its own node name, AMQP and distribution ports, data and log directories and
Erlang cookie (HOME), so stopping it never touches the machine's shared
broker.  It registers with the host's epmd like any node (epmd is not
stopped).  Started with /usr/lib/rabbitmq/bin/rabbitmq-server directly (the
/usr/sbin wrapper switches to the rabbitmq user); ended by its own PID.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class PrivateRabbit:
    """``start()``, ``stop()`` (graceful, data kept), ``start()`` again, ``destroy()``."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='trove-rmq-')
        self.node = 'trove-ft-%s@localhost' % uuid.uuid4().hex[:8]
        self.port = _free_port()
        self.dist_port = _free_port()
        self.proc = None
        with open(os.path.join(self.dir, 'rabbitmq.conf'), 'w') as f:
            f.write('listeners.tcp.default = 127.0.0.1:%d\n'
                    'loopback_users = none\n' % self.port)
        with open(os.path.join(self.dir, 'enabled_plugins'), 'w') as f:
            f.write('[].\n')

    @property
    def url(self):
        return 'rabbit://guest:guest@127.0.0.1:%d/' % self.port

    def _env(self):
        env = dict(os.environ, HOME=self.dir, RABBITMQ_NODENAME=self.node,
                   RABBITMQ_NODE_PORT=str(self.port), RABBITMQ_DIST_PORT=str(self.dist_port),
                   RABBITMQ_BASE=self.dir, RABBITMQ_MNESIA_BASE=os.path.join(self.dir, 'db'),
                   RABBITMQ_LOG_BASE=os.path.join(self.dir, 'log'),
                   RABBITMQ_CONFIG_FILE=os.path.join(self.dir, 'rabbitmq.conf'),
                   RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.dir, 'enabled_plugins'),
                   RABBITMQ_PID_FILE=os.path.join(self.dir, 'pid'))
        env.pop('RABBITMQ_ERLANG_COOKIE', None)
        return env

    def start(self, timeout=60):
        out = open(os.path.join(self.dir, 'server.out'), 'ab')
        self.proc = subprocess.Popen([SERVER], env=self._env(), stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('private RabbitMQ exited; see %s' % self.dir)
            if self._answers():
                return self
            time.sleep(0.5)
        raise RuntimeError('private RabbitMQ did not start; see %s' % self.dir)

    def _answers(self):
        try:
            import kombu
            with kombu.Connection(self.url.replace('rabbit://', 'amqp://'),
                                  connect_timeout=2) as conn:
                conn.connect()
                return True
        except Exception:
            return False

    def stop(self, timeout=60):
        """Stop the node the way an operator's restart does (queues kept on disk)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        # RabbitMQ shuts down cleanly on SIGTERM (what systemd sends).
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill_group()

    def _kill_group(self):
        # The node's session holds beam and its helpers (erl_child_setup);
        # epmd was started by the host before us and is not in it.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def destroy(self):
        self.stop()
        if self.proc is not None and self.proc.poll() is None:
            self._kill_group()
        shutil.rmtree(self.dir, ignore_errors=True)
