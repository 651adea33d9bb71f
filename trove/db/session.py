"""Engine and transactions on the infrastructure database (oslo.db enginefacade)."""
import contextlib
import contextvars
import fcntl
import os
import threading
import time

from oslo_db.sqlalchemy import enginefacade
from sqlalchemy import event, pool

from trove.conf import CONF

_LOCK = threading.Lock()
_FACADE = None
# True inside reader(): its SQLite transaction begins without the write lock.
_READ_ONLY = contextvars.ContextVar('trove_db_read_only', default=False)
# SQLite writers take a turn here before asking for the file's write lock
# (see writer()); None for other databases.
_WRITE_QUEUE = None
_QUEUE_TIMEOUT = 30


class _WriteTurns:
    """Writers of every process take turns on one SQLite file.

    SQLite lets a writer that finds the file locked sleep in its busy
    handler, up to 100 ms a try, while a newcomer may take the lock in
    between: with fifty build threads in the taskmanager asking at once,
    the API's inserts and the conductor's heartbeats waited for seconds, and
    some past the busy timeout ("database is locked").  Here the threads of
    a process queue on a lock of their own and one of them at a time waits
    for a flock on ``<db>-writers.lock``, tried every millisecond, so the
    turn passes within a millisecond and between processes too.
    """

    def __init__(self, path):
        self._local = threading.RLock()
        self._path = path
        self._fd = None
        self._depth = 0          # writers nested in the thread holding the turn

    def acquire(self, timeout):
        """True with the turn taken; False when ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        if not self._local.acquire(timeout=timeout):
            return False
        self._depth += 1
        if self._depth > 1:
            return True
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._depth -= 1
                    self._local.release()
                    return False
                time.sleep(0.001)

    def release(self):
        self._depth -= 1
        if not self._depth:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._local.release()


def _facade():
    global _FACADE, _WRITE_QUEUE
    with _LOCK:
        if _FACADE is None:
            facade = enginefacade.transaction_context()
            # thread_checkin puts a sleep(0) on every connection checkin so
            # that eventlet can switch greenthreads; on real threads it only
            # hands the GIL away at the end of each transaction, which under
            # a burst of requests delays every one of them.
            facade.configure(connection=CONF.database.connection, sqlite_fk=True,
                             thread_checkin=False)
            engine = facade.writer.get_engine()
            if engine.dialect.name == 'sqlite':
                _serialize_sqlite(engine)
                if engine.url.database not in (None, '', ':memory:'):
                    _WRITE_QUEUE = _WriteTurns(engine.url.database + '-writers.lock')
            _FACADE = facade
    return _FACADE


def _serialize_sqlite(engine):
    """Make SQLite writers wait for each other instead of failing.

    api, taskmanager and conductor share one SQLite file.  A deferred
    transaction that reads and then writes (set_task does) fails at once
    with "database is locked" when another process writes at the same
    moment: SQLite cannot wait there without deadlocking.  Taking the write
    lock at BEGIN (IMMEDIATE) with a generous busy timeout turns that into a
    short wait; WAL keeps readers from blocking the writer.  Read-only
    transactions (reader()) begin DEFERRED: they never write, so they cannot
    deadlock, and with WAL they need no lock at all.  Taking the write lock
    for them too made every status poll of a build, every GET and every
    heartbeat wait for each other.
    """
    @event.listens_for(engine, 'connect')
    def _connect(dbapi_conn, _record):
        cursor = dbapi_conn.cursor()
        cursor.execute('PRAGMA busy_timeout = 30000')
        cursor.execute('PRAGMA journal_mode = WAL')
        # In WAL mode NORMAL never corrupts the file and loses nothing when a
        # process dies (kill -9); only an OS crash or power loss can undo the
        # last commits.  FULL fsyncs every commit: a third of a heartbeat.
        cursor.execute('PRAGMA synchronous = NORMAL')
        cursor.close()

    @event.listens_for(engine, 'begin')
    def _begin(conn):
        # pysqlite would emit its own deferred BEGIN otherwise (SQLAlchemy
        # resets the isolation level on checkout, so set it every time).
        conn.connection.dbapi_connection.isolation_level = None
        conn.exec_driver_sql('BEGIN' if _READ_ONLY.get() else 'BEGIN IMMEDIATE')

    # oslo.db gives file databases a NullPool: a new connection, its pragmas
    # and oslo.db's own set-up for every transaction (most of a heartbeat's
    # cost).  Keep connections instead; each is used by one thread at a time.
    if engine.url.database not in (None, '', ':memory:'):
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        cparams = dict(cparams, check_same_thread=False)
        old = engine.pool
        engine.pool = pool.QueuePool(
            lambda: engine.dialect.connect(*cargs, **cparams), pool_size=4,
            max_overflow=16, timeout=60, dialect=old._dialect, _dispatch=old.dispatch)
        old.dispose()
    engine.dispose()  # drop connections made before the listeners existed


def reset():
    """Forget the engine (tests switch databases between runs)."""
    global _FACADE, _WRITE_QUEUE
    with _LOCK:
        if _FACADE is not None:
            _FACADE.dispose_pool()
        _FACADE = None
        if _WRITE_QUEUE is not None and _WRITE_QUEUE._fd is not None:
            os.close(_WRITE_QUEUE._fd)
        _WRITE_QUEUE = None


class _Ctx:
    """enginefacade wants an object to hang the session on; requests have none."""


@contextlib.contextmanager
def writer():
    """A read-write transaction: ``with writer() as session: ...``.

    On a SQLite file the writer first takes its turn (_WriteTurns).
    """
    facade = _facade()
    queue = _WRITE_QUEUE
    # Bounded: a thread that waits on another while writing must end in
    # SQLite's "database is locked" as before, not hang.
    queued = queue is not None and queue.acquire(timeout=_QUEUE_TIMEOUT)
    token = _READ_ONLY.set(False)  # also when nested in a reader
    try:
        with facade.writer.using(_Ctx()) as session:
            yield session
    finally:
        _READ_ONLY.reset(token)
        if queued:
            queue.release()


@contextlib.contextmanager
def reader():
    """A read-only transaction: ``with reader() as session: ...``."""
    token = _READ_ONLY.set(True)
    try:
        with _facade().reader.using(_Ctx()) as session:
            yield session
    finally:
        _READ_ONLY.reset(token)


def get_engine():
    """The writer engine, for migrations."""
    return _facade().writer.get_engine()
