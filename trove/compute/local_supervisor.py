"""Supervisor of a local server's guest agent: systemd's Restart=on-failure.

On a VM the agent is a systemd unit that comes back when it dies.  The local
driver starts this small process instead of the bare agent, as the leader of
the server's session; it runs the agent as its child (same session, so a
power-off still ends everything) and restarts it when it dies of a signal or
a non-zero exit, with exponential backoff.  After ``max_deaths`` deaths
within ``window`` seconds it gives up, as systemd's start limit does, and
records the fault in its status file.

It never restarts an agent that was stopped on purpose: a clean exit (code
0, what the agent does on SIGTERM) is final, and SIGTERM/SIGINT to the
supervisor (a power-off signals the whole session) stops the agent and the
supervisor for good.  SIGHUP is passed on to the agent (a spare claim).

The status file (``var/supervisor.json``, written atomically) is all the
driver reads: ``state`` is 'running', 'backoff', 'failed' or 'stopped',
``agent_pid``/``agent_start`` name the current agent, ``restarts`` counts
restarts, ``fault`` says why it gave up.  Run as::

    python -I .../trove/compute/local_supervisor.py --status FILE [options] -- AGENT ARGV

It is run as a plain script in isolated mode and imports the standard library
only: importing the ``trove`` package loads oslo.service (over half a second
and tens of MB), a cost every server would pay for a process that only waits.
"""
import argparse
import collections
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

RUNNING, BACKOFF, FAILED, STOPPED = 'running', 'backoff', 'failed', 'stopped'


def read_status(path):
    """The supervisor's status dict, or None (no supervisor, or not written yet)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_json(path, data):
    """Replace ``path`` atomically (readers see the old or the new status)."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.tmp-sup-')
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(data, f, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _now_iso():
    return datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def describe_exit(code):
    """'exit code 3' or 'signal 9 (SIGKILL)' for a Popen return code."""
    if code is None:
        return 'unknown'
    if code < 0:
        try:
            return 'signal %d (%s)' % (-code, signal.Signals(-code).name)
        except ValueError:
            return 'signal %d' % -code
    return 'exit code %d' % code


class Policy:
    """When to restart: backoff delays and the start limit.

    ``backoff`` seconds before the first restart, doubling per death up to
    ``backoff_max``; an agent that ran ``stable`` seconds resets the
    doubling.  More than ``max_deaths`` deaths within ``window`` seconds is
    a fault.
    """

    def __init__(self, backoff=0.5, backoff_max=8.0, max_deaths=5, window=120.0,
                 stable=30.0, clock=time.monotonic):
        self.backoff, self.backoff_max = backoff, backoff_max
        self.max_deaths, self.window, self.stable = max_deaths, window, stable
        self.clock = clock
        self.deaths = collections.deque()
        self.streak = 0

    def record_death(self, ran_for):
        """Note a death after ``ran_for`` seconds; the delay before the next
        start, or None when the start limit is reached."""
        now = self.clock()
        self.deaths.append(now)
        while self.deaths and now - self.deaths[0] > self.window:
            self.deaths.popleft()
        if len(self.deaths) > self.max_deaths:
            return None
        self.streak = 1 if ran_for >= self.stable else self.streak + 1
        return min(self.backoff * (2 ** (self.streak - 1)), self.backoff_max)


class Supervisor:
    """Run ``argv`` until stopped, restarting it on failure per ``policy``."""

    def __init__(self, argv, status_path, policy=None, popen=subprocess.Popen):
        self.argv = list(argv)
        self.status_path = status_path
        self.policy = policy or Policy()
        self.popen = popen
        self.stopping = False
        self.child = None
        self.restarts = 0
        self.last_exit = None

    # -- signals ----------------------------------------------------------------
    def install_signals(self):
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGHUP, self._forward)

    def _stop(self, signum, _frame):
        self.stopping = True
        self._signal_child(signal.SIGTERM)

    def _forward(self, signum, _frame):
        self._signal_child(signum)

    def _signal_child(self, signum):
        child = self.child
        if child is not None and child.poll() is None:
            try:
                child.send_signal(signum)
            except ProcessLookupError:
                pass

    # -- main loop ----------------------------------------------------------------
    def _write(self, run_state, fault=None):
        child = self.child
        pid = child.pid if child is not None and run_state == RUNNING else None
        _write_json(self.status_path, {
            'state': run_state, 'agent_pid': pid, 'agent_start': _start_time(pid),
            'restarts': self.restarts, 'last_exit': self.last_exit, 'fault': fault,
            'updated': _now_iso()})

    def run_once(self):
        """Start the agent and wait for it; returns (exit code, seconds it ran)."""
        started = time.monotonic()
        self.child = self.popen(self.argv, stdin=subprocess.DEVNULL, close_fds=True)
        if self.stopping:
            # The stop signal came between the loop's check and the start.
            self._signal_child(signal.SIGTERM)
        self._write(RUNNING)
        code = self.child.wait()
        return code, time.monotonic() - started

    def run(self):
        """Supervise until stopped, a clean exit or the start limit; exit status."""
        while not self.stopping:
            try:
                code, ran_for = self.run_once()
            except OSError as exc:
                self._write(FAILED, fault='the guest agent could not be started: %s' % exc)
                return 1
            self.last_exit = describe_exit(code)
            if self.stopping or code == 0:
                break
            delay = self.policy.record_death(ran_for)
            if delay is None:
                fault = ('the guest agent died %d times within %ds (last: %s); not '
                         'restarting it again until the server is rebooted'
                         % (len(self.policy.deaths), self.policy.window, self.last_exit))
                _log(fault)
                self._write(FAILED, fault=fault)
                return 1
            _log('guest agent pid %d ended with %s; restarting it in %.1fs'
                 % (self.child.pid, self.last_exit, delay))
            self._write(BACKOFF)
            if self._sleep(delay):
                break
            self.restarts += 1
        self._write(STOPPED)
        return 0

    def _sleep(self, delay):
        """Sleep ``delay`` seconds unless stopped first; True when stopped.

        Plain short sleeps: a signal handler may not safely set an Event the
        main thread is waiting on.
        """
        deadline = time.monotonic() + delay
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return self.stopping


def _start_time(pid):
    """Start time of ``pid`` (clock ticks since boot), to tell it from a reused pid.

    Field 22 of /proc/<pid>/stat, counted after the command name's last ')'
    (the same reading as local_proc.proc_stat).
    """
    try:
        with open('/proc/%d/stat' % pid) as f:
            return int(f.read().rsplit(')', 1)[1].split()[19])
    except (OSError, TypeError, IndexError, ValueError):
        return None


def _log(message):
    # stdout is the server's guestagent.log: what a VM's journal would show.
    print('%s trove-supervisor: %s' % (_now_iso(), message), flush=True)


def command(python, status_path, agent_argv, policy):
    """The argv that runs ``agent_argv`` under a supervisor with ``policy``."""
    return [python, '-I', os.path.abspath(__file__), '--status', status_path,
            '--backoff', str(policy.backoff), '--backoff-max', str(policy.backoff_max),
            '--max-deaths', str(policy.max_deaths), '--window', str(policy.window),
            '--'] + list(agent_argv)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--status', required=True)
    parser.add_argument('--backoff', type=float, default=0.5)
    parser.add_argument('--backoff-max', type=float, default=8.0)
    parser.add_argument('--max-deaths', type=int, default=5)
    parser.add_argument('--window', type=float, default=120.0)
    parser.add_argument('agent', nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    agent = args.agent[1:] if args.agent[:1] == ['--'] else args.agent
    if not agent:
        parser.error('no agent command given')
    sup = Supervisor(agent, args.status, Policy(
        backoff=args.backoff, backoff_max=args.backoff_max, max_deaths=args.max_deaths,
        window=args.window))
    sup.install_signals()
    return sup.run()


if __name__ == '__main__':
    sys.exit(main())
