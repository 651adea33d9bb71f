"""The engine server as a child process of the guest agent.

The engine runs as a plain child of the agent (never in a new session): the
local compute driver ends a server by killing its whole session, and the
engine must go with it.  After an agent restart the engine's pid file tells
whether an engine from the previous agent still lives; a pid file left
behind by a process that is gone means the engine crashed, because every
engine here removes its pid file on a clean shutdown.
"""
import os
import signal
import subprocess
import time

from oslo_log import log as logging

from trove.common import exception
from trove.guestagent.engines import process
from trove.guestagent.engines.common import files

LOG = logging.getLogger(__name__)


def _argv0(pid):
    """Program name of ``pid``; engines that rewrite their title
    ('redis-server 127.0.0.1:6379') keep it as the first word."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            first = f.read().split(b'\0', 1)[0]
    except OSError:
        return ''
    words = first.split()
    return os.path.basename(words[0]).decode(errors='replace') if words else ''


class ChildProcess:
    """Start, find, stop and judge one engine server process.

    ``programs`` are the names the engine's argv[0] may have, ``pid_file``
    the file the engine writes (its first line is the pid), ``stop_signal``
    the signal that makes the engine shut down cleanly and quickly.
    ``keep_stale_pid`` leaves a dead engine's pid file for the engine to
    judge itself (PostgreSQL checks its shared memory through it).
    ``resignal_interval`` re-sends the stop signal every so many seconds
    while waiting, for engines that may refuse one shutdown request and
    not retry it (redis-server while it writes its first AOF).
    """

    def __init__(self, name, programs, pid_file, console_log,
                 stop_signal=signal.SIGTERM, keep_stale_pid=False, resignal_interval=None):
        self.name = name
        self.programs = tuple(programs)
        self.pid_file = pid_file
        self.console_log = console_log
        self.stop_signal = stop_signal
        self.keep_stale_pid = keep_stale_pid
        self.resignal_interval = resignal_interval
        self._child = None  # Popen of the engine this agent started

    def read_pid(self):
        try:
            with open(self.pid_file) as f:
                return int((f.readline() or '0').strip() or 0)
        except (OSError, ValueError):
            return None

    def is_engine(self, pid):
        """Whether ``pid`` is a live engine (pids get reused after reboots)."""
        return process.pid_alive(pid) and _argv0(pid) in self.programs

    def running_pid(self):
        """Pid of our live engine, or None."""
        if self._child is not None and self._child.poll() is None:
            return self._child.pid
        pid = self.read_pid()
        return pid if pid and self.is_engine(pid) else None

    def process_state(self):
        """'running', 'starting' (child alive, no pid file yet), 'crashed' or 'stopped'."""
        pid = self.read_pid()
        if pid and self.is_engine(pid):
            return 'running'
        if self._child is not None and self._child.poll() is None:
            return 'starting'
        return 'crashed' if pid else 'stopped'

    def spawn(self, cmd, user=None, cwd=None):
        """Start ``cmd`` as a child unless the engine already runs; returns its pid.

        ``user`` is the engine's OS user, switched to in the child when the
        agent is root.
        """
        pid = self.running_pid()
        if pid:
            LOG.info('%s already running with pid %s', self.name, pid)
            return pid
        if os.path.exists(self.pid_file) and not self.keep_stale_pid:
            LOG.warning('Removing stale pid file %s', self.pid_file)
            os.unlink(self.pid_file)
        kwargs = {}
        ids = files.engine_ids(user)
        if ids:
            # Its own HOME too: libpq in a walreceiver looks there (engine_env).
            kwargs = {'user': ids[0], 'group': ids[1], 'extra_groups': [],
                      'env': files.engine_env(ids)}
        LOG.info('Starting %s', process.safe_cmd(cmd))
        with open(self.console_log, 'ab') as out:
            # No start_new_session: see the module docstring.
            self._child = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                                           stdout=out, stderr=subprocess.STDOUT,
                                           close_fds=True, cwd=cwd, **kwargs)
        return self._child.pid

    def child_exited(self):
        """Whether the child we spawned has already exited."""
        return self._child is not None and self._child.poll() is not None

    def wait_ready(self, answers, timeout, log_tail):
        """Wait until ``answers()`` is true; EngineError with ``log_tail()``
        when the child exits first or ``timeout`` seconds pass."""
        def done():
            return self.child_exited() or answers()

        if not process.wait_for(done, timeout, interval=0.25, what='%s start' % self.name):
            why = 'did not answer within %ss' % timeout
        elif self.child_exited():
            why = 'exited during start'
        else:
            return
        raise exception.EngineError(detail='%s %s; log tail:\n%s' % (self.name, why, log_tail()))

    def terminate(self, timeout):
        """Send the stop signal and wait for the engine to exit."""
        pid = self.running_pid()
        if not pid:
            return
        LOG.info('Stopping %s pid %s', self.name, pid)
        deadline = time.monotonic() + timeout
        while True:
            try:
                os.kill(pid, self.stop_signal)
            except ProcessLookupError:
                break
            left = deadline - time.monotonic()
            wait = min(left, self.resignal_interval or left)
            if process.wait_for(lambda: not self._alive(pid), max(wait, 0),
                                what='%s exit' % self.name):
                break
            if time.monotonic() >= deadline:
                raise exception.EngineError(
                    detail='%s (pid %s) did not stop within %ss' % (self.name, pid, timeout))
            LOG.info('%s pid %s still runs; asking it again to stop', self.name, pid)
        self._child = None

    def _alive(self, pid):
        if self._child is not None and self._child.pid == pid:
            return self._child.poll() is None  # poll() also reaps the zombie
        return process.pid_alive(pid)
