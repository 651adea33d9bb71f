"""Engine and transactions on the infrastructure database (oslo.db enginefacade)."""
import contextlib
import contextvars
import threading

from oslo_db.sqlalchemy import enginefacade
from sqlalchemy import event, pool

from trove.conf import CONF

_LOCK = threading.Lock()
_FACADE = None
# True inside reader(): its SQLite transaction begins without the write lock.
_READ_ONLY = contextvars.ContextVar('trove_db_read_only', default=False)


def _facade():
    global _FACADE
    with _LOCK:
        if _FACADE is None:
            facade = enginefacade.transaction_context()
            facade.configure(connection=CONF.database.connection, sqlite_fk=True)
            engine = facade.writer.get_engine()
            if engine.dialect.name == 'sqlite':
                _serialize_sqlite(engine)
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
    global _FACADE
    with _LOCK:
        if _FACADE is not None:
            _FACADE.dispose_pool()
        _FACADE = None


class _Ctx:
    """enginefacade wants an object to hang the session on; requests have none."""


@contextlib.contextmanager
def writer():
    """A read-write transaction: ``with writer() as session: ...``."""
    token = _READ_ONLY.set(False)  # also when nested in a reader
    try:
        with _facade().writer.using(_Ctx()) as session:
            yield session
    finally:
        _READ_ONLY.reset(token)


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
