"""Collects heartbeats from the RPC executor threads and applies them together.

Every guest casts a heartbeat each report interval; applying each in its
own transaction made the conductor's database work (and, on SQLite, the
executor threads queueing for the write lock) the cost of a heartbeat.  The
executor threads now only hand a heartbeat over; one thread applies what
arrived during a short window (``heartbeat_batch_window``) in one
transaction (trove.db.heartbeats).

Only the newest heartbeat of an instance matters, so the pending set holds
one per instance: it cannot grow beyond the number of guests however slow
the database is.  A heartbeat that changes its instance's status (a crash,
a shutdown, the engine back) is not held for the window: the batch it joins
is applied at once, so the window delays only heartbeats that change
nothing.  A conductor that dies loses the heartbeats of at most one
window; guests send them again every interval.  Nothing but heartbeats goes
through here: faults and backup reports are applied when they arrive.
"""
import threading
import time

from oslo_db import exception as db_exception
from oslo_log import log as logging

LOG = logging.getLogger(__name__)
# Instances whose last status a batcher remembers (far more than one
# conductor's guests); beyond it the memory starts again.
LAST_MAX = 100000


class Batcher:
    """Applies submitted heartbeats in batches with ``apply(beats)``.

    ``window`` is how long a batch collects after its first heartbeat
    arrived; while the thread applies one batch the next one collects.
    """

    def __init__(self, apply, window):
        self._apply = apply
        self._window = window
        self._pending = {}      # instance id -> newest Beat not yet applied
        self._cond = threading.Condition()
        self._busy = False      # a batch is being applied
        self._hurry = 0         # flush() callers waiting: no window
        self._since = 0.0       # when the first pending heartbeat arrived
        self._urgent = False    # a pending heartbeat changes a status: no window
        self._last = {}         # instance id -> its newest heartbeat submitted
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name='heartbeats', daemon=True)
        self._thread.start()

    def submit(self, beat):
        """Queue ``beat`` unless a newer one of its instance is pending."""
        with self._cond:
            first = not self._pending
            old = self._pending.get(beat.instance_id)
            if old is None or beat.newer_than(old):
                self._pending[beat.instance_id] = beat
            if self._changes(beat):
                self._urgent = True
                self._cond.notify_all()
            if first:
                # The first of a batch opens its window and wakes the thread
                # (later ones would only wake it during the window).
                self._since = time.monotonic()
                self._cond.notify_all()

    def _changes(self, beat):
        """Whether ``beat`` is newer than the instance's last heartbeat here
        and reports another status.

        Unknown instances (a conductor just started, or one of several that
        has not had a heartbeat of it yet) count as unchanged: a heartbeat
        waits at most one window.  A stale one changes nothing.
        """
        if len(self._last) >= LAST_MAX and beat.instance_id not in self._last:
            self._last.clear()      # deleted instances' entries; refilled in a round
        last = self._last.get(beat.instance_id)
        if last is not None and not beat.newer_than(last):
            return False
        self._last[beat.instance_id] = beat
        return last is not None and last.status != beat.status

    def flush(self, timeout=30):
        """Wait until everything submitted so far has been applied (or failed)."""
        with self._cond:
            self._hurry += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(lambda: not self._pending and not self._busy,
                                           timeout)
            finally:
                self._hurry -= 1

    def stop(self, timeout=30):
        """Apply what is pending and end the thread."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def _run(self):
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopped)
                if not self._pending:
                    return
                self._collect()
                batch, self._pending = list(self._pending.values()), {}
                self._urgent = False
                self._busy = True
            try:
                self._apply_safely(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _collect(self):
        """Wait out the window (with the condition held); stop, flush and a
        status change cut it short."""
        deadline = self._since + self._window
        while not (self._stopped or self._hurry or self._urgent):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _apply_safely(self, batch):
        """One transaction for the batch; when it fails, each heartbeat on its
        own, so one that the database refuses cannot stall the others."""
        try:
            self._apply(batch)
            return
        except Exception as exc:
            if len(batch) == 1 or isinstance(exc, db_exception.DBConnectionError):
                LOG.exception('Could not apply %d heartbeat(s); guests send them again',
                              len(batch))
                return
            LOG.warning('A batch of %d heartbeats failed (%s); applying them one by one',
                        len(batch), exc)
        for beat in batch:
            try:
                self._apply([beat])
            except Exception:
                LOG.exception('Could not apply the heartbeat of %s', beat.instance_id)
