"""Self-healing of a crashed engine: the agent restarts it, as RDS would.

A periodic ``check`` looks at the engine's status.  When the engine is down
('crashed': its pid file outlived it; 'shutdown': it exited on its own) and
the agent did not stop it, the watch reports the status at once, writes a
line to the agent's log (the instance's ``guest`` log), and starts the engine
again, which runs the engine's own crash recovery (InnoDB redo, PostgreSQL
WAL replay, Redis AOF load).  Restarts back off and are bounded: after
``engine_restart_limit`` crashes within ``engine_restart_window`` seconds the
watch gives up, raises a fault and leaves the engine down until a user or
admin restart, so a crash loop never hides behind ever new restarts.

Work that stops or restarts the engine on purpose (stop_db, restart, resize,
configuration changes, recovery at agent start) runs inside :meth:`quiet`,
which the watch never interrupts; ``stop_db`` also marks the engine as meant
to be down, so the watch leaves it down.
"""
import collections
import contextlib
import threading
import time

from oslo_log import log as logging

from trove.conf import CONF

LOG = logging.getLogger(__name__)
DOWN = ('crashed', 'shutdown')
# Start attempts per crash, START_PAUSE seconds apart: right after a kill
# the dead engine's workers may still hold its resources for a moment
# (PostgreSQL's shared memory), which fails the first start.
START_ATTEMPTS = 3
START_PAUSE = 0.5


class CrashPolicy:
    """Delays before restarting a crashed engine, and the crash limit.

    The first restart is immediate (the target is HEALTHY within seconds);
    each further crash within ``window`` seconds doubles the delay from
    ``backoff`` up to ``backoff_max``.  More than ``limit`` crashes in the
    window means giving up (None).
    """

    def __init__(self, limit=5, window=300.0, backoff=1.0, backoff_max=16.0,
                 clock=time.monotonic):
        self.limit, self.window = limit, window
        self.backoff, self.backoff_max = backoff, backoff_max
        self.clock = clock
        self.crashes = collections.deque()

    def record_crash(self):
        """Note a crash; seconds to wait before the restart, or None to give up."""
        now = self.clock()
        self.crashes.append(now)
        while self.crashes and now - self.crashes[0] > self.window:
            self.crashes.popleft()
        count = len(self.crashes)
        if count > self.limit:
            return None
        if count == 1:
            return 0.0
        return min(self.backoff * 2 ** (count - 2), self.backoff_max)

    def reset(self):
        self.crashes.clear()


class EngineWatch:
    """Restarts the engine when it went down without the agent stopping it.

    ``active()`` says whether the engine is meant to be watched at all
    (prepared, not preparing); ``report()`` sends a heartbeat; ``reporter``
    raises faults.  ``sleep`` is replaceable for tests.
    """

    def __init__(self, engine, reporter, active, report, policy=None, sleep=time.sleep):
        self.engine = engine
        self.reporter = reporter
        self.active = active
        self.report = report
        self.policy = policy or CrashPolicy(
            limit=CONF.engine_restart_limit, window=CONF.engine_restart_window)
        self.sleep = sleep
        self._lock = threading.Lock()
        self.wanted_up = True
        self.gave_up = False
        self.restarts = 0

    @contextlib.contextmanager
    def quiet(self, wanted_up=None):
        """Run deliberate engine work the watch must not interfere with.

        Afterwards the engine is meant to be up (``wanted_up`` True: a
        deliberate start, which also clears a give-up) or down (False), or
        as before (None).
        """
        with self._lock:
            try:
                yield
            finally:
                if wanted_up is not None:
                    self.wanted_up = wanted_up
                if wanted_up:
                    self.gave_up = False
                    self.policy.reset()

    def check(self):
        """One look at the engine (the periodic job); heals it when it crashed."""
        if not self.active() or not self._lock.acquire(blocking=False):
            return
        try:
            if not self.wanted_up or self.gave_up:
                return
            status = self.engine.status()
            if status in DOWN:
                self._heal(status)
        finally:
            self._lock.release()

    def _heal(self, status):
        delay = self.policy.record_crash()
        crashes = len(self.policy.crashes)
        if delay is None:
            self.gave_up = True
            message = ('The database engine went down %d times within %ds; it is not '
                       'restarted automatically any more. Restart the instance once '
                       'the cause is fixed.' % (crashes, self.policy.window))
            LOG.error(message)
            self.reporter.error(message)
            self.report()
            return
        LOG.warning('The database engine is %s although the agent did not stop it '
                    '(crash %d within %ds); restarting it in %.0fs',
                    status, crashes, self.policy.window, delay)
        self.report()  # the user sees SHUTDOWN now, not at the next heartbeat
        if delay:
            self.sleep(delay)
        started = time.monotonic()
        if not self._start():
            self.report()  # the next check counts a new crash and tries again
            return
        self.restarts += 1
        LOG.warning('The database engine is back after a crash: restarted in %.1fs '
                    '(%d automatic restarts so far)', time.monotonic() - started,
                    self.restarts)
        self.report()

    def _start(self):
        """Start the engine, retrying a failed start briefly; whether it started."""
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                self.engine.start()
                return True
            except Exception:
                LOG.warning('Start %d of %d of the crashed engine failed', attempt,
                            START_ATTEMPTS, exc_info=True)
            if attempt < START_ATTEMPTS:
                self.sleep(START_PAUSE)
        LOG.error('The crashed engine did not start')
        return False
