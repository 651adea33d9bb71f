"""What the MariaDB archive tests share: a timestamped writer, reading its
rows back, and backups taken through the real strategy and runner."""
import datetime
import json
import threading

import pymysql

from trove.backup import archive_keys
from trove.guestagent.backup import mariadb as mariabackup
from trove.guestagent.backup import runner

UTC = datetime.UTC


class Writer:
    """One autocommit INSERT of NOW(6) every ``interval`` s as ``alice`` into
    ``shop.ticks``; reconnects after errors; ``acked`` holds the ids the
    engine acknowledged, ``acked_at`` when (aware UTC, read as the answer
    came); setting ``paused`` holds the writes."""

    def __init__(self, address, port, password, interval):
        self.address, self.port, self.password = address, port, password
        self.interval, self.errors, self.acked, self.acked_at = interval, 0, [], {}
        self._stop = threading.Event()
        self.paused = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _connect(self):
        conn = pymysql.connect(host=self.address, port=self.port, user='alice',
                               password=self.password, database='shop', autocommit=True,
                               connect_timeout=2)
        with conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
        return conn

    def _run(self):
        conn = None
        while not self._stop.is_set():
            if self.paused.is_set():
                self._stop.wait(0.01)
                continue
            try:
                conn = conn or self._connect()
                with conn.cursor() as cur:
                    cur.execute('INSERT INTO ticks (ts) VALUES (NOW(6))')
                    self.acked_at[cur.lastrowid] = datetime.datetime.now(UTC)
                    self.acked.append(cur.lastrowid)
            except pymysql.err.MySQLError:
                self.errors += 1
                conn = None
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        self._thread.join(10)


def samples(store, container, prefix):
    """[(asked, time)] of the position samples an archive holds, by time."""
    found = []
    for _when, _key, _offset, location in archive_keys.list_positions(store, container,
                                                                      prefix):
        body = json.loads(b''.join(store.get_stream(location)))
        found.append((datetime.datetime.fromisoformat(body['asked']),
                      datetime.datetime.fromisoformat(body['time'])))
    return found


def check_restored(restored, rows, acked_at, target, samples_):
    """Assert that ``restored`` (rows read back) is what a restore to
    ``target`` holds by the rule of trove/guestagent/archive/mariadb.py, and
    return how many rows it holds and how many of them the sample added.

    The rows of a second before the target's are there; so is every row
    acknowledged before the newest sample at or before the target was asked
    for, and none stamped after that sample's time (the log up to its
    position is the engine's log at an instant no later than that time); the
    rows are a prefix of the commit order.  The only rows that may go
    either way are those in flight while the sample was read (at most the
    one or two the writer had outstanding then)."""
    cutoff = target.replace(microsecond=0)
    sample = ([s for s in samples_ if s[1] <= target] or [None])[-1]

    def must(row):
        return row[1].replace(microsecond=0) < cutoff or (
            sample is not None and acked_at.get(row[0], target) < sample[0])

    def may(row):
        return row[1].replace(microsecond=0) < cutoff or (
            sample is not None and row[1] <= sample[1])
    low = max([i + 1 for i, r in enumerate(rows) if must(r)] or [0])
    high = next((i for i, r in enumerate(rows) if not may(r)), len(rows))
    assert restored == rows[:len(restored)], (target, 'not a prefix of the commit order')
    assert low <= len(restored) <= high, (target, sample, low, len(restored), high)
    assert high - low <= 2, (target, sample, low, high)
    coarse = sum(1 for r in rows if r[1].replace(microsecond=0) < cutoff)
    return len(restored), len(restored) - coarse


def rows(address, port, password, table='ticks'):
    """``[(id, ts)]`` of ``shop.<table>``, the times as aware UTC."""
    conn = pymysql.connect(host=address, port=port, user='alice', password=password,
                           database='shop', connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute('SELECT id, ts FROM %s ORDER BY id' % table)
            return [(i, ts.replace(tzinfo=UTC)) for i, ts in cur.fetchall()]
    finally:
        conn.close()


class Conductor:
    """Records what the backup runner reports."""

    def __init__(self):
        self.reports = []

    def update_backup(self, **fields):
        self.reports.append(fields)


def backup(eng, store, parent=None, storage_driver=None):
    """A backup through the strategy and runner; its restore info (chain)."""
    conductor = Conductor()
    backup_id = 'inc-1' if parent else 'full-1'
    info = {'id': backup_id, 'instance_id': 'src',
            'backup_type': 'incremental' if parent else 'full',
            'datastore': 'mariadb', 'datastore_version': '10.11',
            'parent': parent and parent['chain'][-1]}
    assert runner.run_backup(mariabackup.MariaBackup(eng), info, conductor, store=store)
    done = conductor.reports[-1]
    entry = {'id': backup_id, 'location': done['location'], 'checksum': done['checksum']}
    restore = {'backup_id': backup_id}
    if storage_driver:
        entry['storage_driver'] = restore['storage_driver'] = storage_driver
    restore['chain'] = (parent['chain'] if parent else []) + [entry]
    return restore
