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


def test_writer_takes_the_write_lock_at_begin(db):
    with session.writer() as s:
        s.scalar(select(func.count()).select_from(models.Instance))
        # The lock is held from BEGIN on, before anything was written.
        path = CONF.database.connection[len('sqlite:///'):]
        probe = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            probe.execute('BEGIN IMMEDIATE')
            raise AssertionError('a second writer got the lock')
        except sqlite3.OperationalError as exc:
            assert 'locked' in str(exc)
        finally:
            probe.close()


def test_writer_nested_in_a_reader_still_locks(db):
    with session.reader():
        with session.writer() as s:
            s.scalar(select(func.count()).select_from(models.Instance))
            path = CONF.database.connection[len('sqlite:///'):]
            probe = sqlite3.connect(path, isolation_level=None, timeout=0)
            try:
                probe.execute('BEGIN IMMEDIATE')
                raise AssertionError('a second writer got the lock')
            except sqlite3.OperationalError as exc:
                assert 'locked' in str(exc)
            finally:
                probe.close()
    assert session._READ_ONLY.get() is False
