"""One status poll for all the builds of a taskmanager waiting on their guests.

Each build used to read its instance and service-status rows every
``usage_sleep_time`` seconds: fifty concurrent builds made five hundred
transactions a second, half a core of the very machine the guests were
being built on.  A Board reads the rows of every watched instance with one
query per tick, on one thread that runs only while someone watches, and
wakes the waiting builds.
"""
import contextlib
import dataclasses
import threading

from oslo_log import log as logging
from sqlalchemy import select

from trove.conf import CONF
from trove.db import models
from trove.db.session import reader

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Seen:
    """What one tick read of an instance."""

    task_id: int | None       # None: the instance is gone (or deleted)
    status_id: int | None     # None: no service status row yet


def read_rows(ids):
    """{id: Seen} of ``ids`` from one read transaction."""
    with reader() as session:
        rows = session.execute(
            select(models.Instance.id, models.Instance.task_id,
                   models.ServiceStatusRow.status_id)
            .outerjoin(models.ServiceStatusRow,
                       models.ServiceStatusRow.instance_id == models.Instance.id)
            .where(models.Instance.id.in_(list(ids)),
                   models.Instance.deleted.is_(False))).all()
    found = {row[0]: Seen(task_id=row[1], status_id=row[2]) for row in rows}
    return {iid: found.get(iid, Seen(task_id=None, status_id=None)) for iid in ids}


class Board:
    """Rows of the watched instances, re-read every ``interval`` seconds."""

    def __init__(self, read=read_rows, interval=None):
        self._read = read
        self._interval = interval
        self._cond = threading.Condition()
        self._watchers = {}      # instance id -> number of waiting builds
        self._seen = {}
        self._tick = 0
        self._running = False

    @property
    def interval(self):
        return self._interval if self._interval is not None else CONF.usage_sleep_time

    @contextlib.contextmanager
    def watch(self, instance_id):
        """Have ``instance_id`` read on every tick while the block runs."""
        with self._cond:
            self._watchers[instance_id] = self._watchers.get(instance_id, 0) + 1
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name='build-watch', daemon=True).start()
        try:
            yield
        finally:
            with self._cond:
                self._watchers[instance_id] -= 1
                if not self._watchers[instance_id]:
                    del self._watchers[instance_id]
                    self._seen.pop(instance_id, None)

    def next(self, instance_id, after, timeout=None):
        """``(tick, Seen)`` from a tick newer than ``after`` (start with 0);
        ``(after, None)`` when none came within ``timeout`` (the database
        does not answer)."""
        timeout = timeout if timeout is not None else max(5 * self.interval, 1.0)
        with self._cond:
            self._cond.wait_for(
                lambda: self._tick > after and instance_id in self._seen, timeout)
            if self._tick > after and instance_id in self._seen:
                return self._tick, self._seen[instance_id]
            return after, None

    def _run(self):
        stop = threading.Event()  # only ever waited on: a sleep that is easy to read
        while True:
            with self._cond:
                ids = set(self._watchers)
                if not ids:
                    self._running = False
                    return
            try:
                seen = self._read(ids)
            except Exception:
                LOG.exception('Reading the status of %d building instances failed', len(ids))
                seen = None
            if seen is not None:
                with self._cond:
                    self._seen.update({i: s for i, s in seen.items() if i in self._watchers})
                    self._tick += 1
                    self._cond.notify_all()
            stop.wait(self.interval)


BOARD = Board()
