"""SQLite transactions: writers take the write lock at BEGIN, readers do not."""
import sqlite3

from sqlalchemy import func, select

from trove.conf import CONF
from trove.db import models, session


def _other_writer():
    """A second connection holding the write lock, as another daemon would."""
    path = CONF.database.connection[len('sqlite:///'):]
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    conn.execute('BEGIN IMMEDIATE')
    return conn


def test_reader_does_not_wait_for_a_writer(db):
    other = _other_writer()
    try:
        with session.reader() as s:
            assert s.scalar(select(func.count()).select_from(models.Instance)) == 0
    finally:
        other.rollback()
        other.close()


def _assert_write_locked():
    """Another connection cannot take the write lock now."""
    path = CONF.database.connection[len('sqlite:///'):]
    probe = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        probe.execute('BEGIN IMMEDIATE')
        raise AssertionError('a second writer got the lock')
    except sqlite3.OperationalError as exc:
        assert 'locked' in str(exc)
    finally:
        probe.close()


def test_writer_takes_the_write_lock_at_begin(db):
    with session.writer() as s:
        s.scalar(select(func.count()).select_from(models.Instance))
        # The lock is held from BEGIN on, before anything was written.
        _assert_write_locked()


def test_writer_nested_in_a_reader_still_locks(db):
    with session.reader():
        with session.writer() as s:
            s.scalar(select(func.count()).select_from(models.Instance))
            _assert_write_locked()
    assert session._READ_ONLY.get() is False


def test_writers_of_one_process_take_turns(db):
    import threading
    import time
    inside, most = [0], [0]
    guard = threading.Lock()

    def write():
        with session.writer() as s:
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            s.scalar(select(func.count()).select_from(models.Instance))
            time.sleep(0.01)
            with guard:
                inside[0] -= 1

    threads = [threading.Thread(target=write) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert most[0] == 1


def test_a_stuck_writer_queue_falls_back_to_sqlite(db, monkeypatch):
    # A thread waiting on another while writing must not hang forever: after
    # the queue's timeout it asks SQLite, whose busy timeout then decides.
    import threading
    monkeypatch.setattr(session, '_QUEUE_TIMEOUT', 0.1)
    session._facade()
    held = threading.Event()
    release = threading.Event()

    def hold():
        session._WRITE_QUEUE.acquire(5)
        held.set()
        release.wait(5)
        session._WRITE_QUEUE.release()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        with session.writer() as s:
            assert s.scalar(select(func.count()).select_from(models.Instance)) == 0
    finally:
        release.set()
        holder.join(5)


def test_writers_of_two_processes_take_turns(db, tmp_path):
    # Another process holds the turn: a writer here waits for it, then goes.
    import subprocess
    import sys
    import time
    lock = CONF.database.connection[len('sqlite:///'):] + '-writers.lock'
    holder = subprocess.Popen([sys.executable, '-c', (
        'import fcntl, os, sys, time\n'
        'fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n'
        'fcntl.flock(fd, fcntl.LOCK_EX)\n'
        'print("held", flush=True)\n'
        'time.sleep(0.5)\n'), lock], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'
        start = time.monotonic()
        with session.writer() as s:
            s.scalar(select(func.count()).select_from(models.Instance))
        waited = time.monotonic() - start
        assert 0.2 < waited < 5
    finally:
        holder.wait(10)
        holder.stdout.close()


def test_ensure_usages_writes_only_when_rows_are_missing(db, count_writes):
    from trove.common import quota
    from trove.db import quotas
    quotas.ensure_usages('t9', quota.RESOURCES)
    assert set(quotas.get_usages('t9')) == set(quota.RESOURCES)
    writes = count_writes(quotas)
    quotas.ensure_usages('t9', quota.RESOURCES)
    assert writes == []
    quotas.ensure_usages('t10', ['instances'])
    assert writes == [1] and set(quotas.get_usages('t10')) == {'instances'}
