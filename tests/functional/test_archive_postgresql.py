"""Point-in-time recovery of PostgreSQL from a real pg_receivewal archive.

A private cluster (``track_commit_timestamp = on``, so every row's commit
time is known exactly) streams its WAL with the archive strategy's
``pg_receivewal`` into a spool while a writer commits one row at a time; a
base backup is taken in the middle, and the streaming process is killed
with SIGKILL once and restarted (it must resume with no gap).  The spool is
turned into the segment directory a restore gets (each file cut to its
``written_size``, as the shipper ships it), then the base backup is
restored and the archive replayed to several times T: the restored rows
must be exactly those committed at or before T.
"""
import contextlib
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from tests.functional import engine_env
from trove.backup.stores import local
from trove.common import template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent import archive_rpc
from trove.guestagent.archive import base as archive_base
from trove.guestagent.archive import restore as archive_restore
from trove.guestagent.archive import postgresql as pg_archive
from trove.guestagent.archive import shipper
from trove.guestagent.backup import base as backup_base
from trove.guestagent.backup import postgresql as pg_backup
from trove.guestagent.engines.postgresql import app as app_mod
from trove.guestagent.engines.postgresql import manager

ADDRESS = '127.77.251.1'
PASSWORD = 's3cret-pitr'
PROGRAMS = ('postgres', 'pg_receivewal')
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope='module')
def env():
    engine_env.ensure_engine(app_mod.BINARIES, CONF.postgresql.packages, 'PostgreSQL',
                             finder=app_mod.find)
    with engine_env.engine_env(ADDRESS, 'postgresql', PROGRAMS, 'trove-pitr-pg-') as env:
        yield env


@pytest.fixture(scope='module')
def engine(env):
    return make_engine(env)


def make_engine(env):
    """A prepared engine that records commit timestamps (also the bench's)."""
    eng = engine_env.new_engine(env, manager.PostgreSQLEngine)
    eng.prepare(PrepareRequest(
        memory_mb=256, databases=[{'name': 'shop'}],
        users=[{'name': 'alice', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
        config_contents=template.render_config('postgresql', 256),
        overrides={'track_commit_timestamp': 'on'}))
    return eng


def _connect(env):
    return psycopg.connect(host=ADDRESS, port=env['port'], user='alice', password=PASSWORD,
                           dbname='shop', autocommit=True, connect_timeout=5)


class Streamer:
    """The strategy's streaming process, restartable, logging to one file."""

    def __init__(self, strategy, spool, log):
        self.strategy, self.spool, self.log, self.proc = strategy, spool, log, None

    def start(self):
        with open(self.log, 'ab') as out:
            self.proc = subprocess.Popen(self.strategy.stream_argv(self.spool), stdout=out,
                                         stderr=out, stdin=subprocess.DEVNULL,
                                         env=dict(os.environ, **self.strategy.stream_env()))

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
        if self.proc:
            self.proc.wait(10)


def _writer(env, stop, pause, table='ticks'):
    """Commit one row every few ms until ``stop`` is set."""
    with _connect(env) as conn:
        while not stop.is_set():
            conn.execute('INSERT INTO %s DEFAULT VALUES' % table)
            time.sleep(pause)


def _base_backup(engine, workdir):
    strategy = pg_backup.PgBaseBackup(engine)
    _, compress, decompress = backup_base.COMPRESSORS['gzip']
    stream = os.path.join(workdir, 'base.tar.gz')
    with open(stream, 'wb') as out:
        for chunk in backup_base.Pipeline(strategy.backup_command(workdir, None), compress,
                                          os.path.join(workdir, 'backup.log')):
            out.write(chunk)
    meta = strategy.backup_metadata(workdir)

    def read():
        with open(stream, 'rb') as f:
            yield from iter(lambda: f.read(1 << 20), b'')

    return meta, read, decompress


def _wait_received(engine, timeout=30):
    """Until pg_receivewal has flushed everything the server wrote."""
    lsn = engine.admin.execute('SELECT pg_current_wal_lsn()::text')[0][0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = engine.admin.execute(
            'SELECT flush_lsn >= %s::pg_lsn FROM pg_stat_replication '
            "WHERE application_name = 'pg_receivewal'", (lsn,))
        if rows and rows[0][0]:
            return
        time.sleep(0.1)
    raise AssertionError('pg_receivewal did not receive up to %s' % lsn)


def _segments(strategy, spool, target):
    """The spool as a restore gets it: files by key, cut to what is written."""
    os.makedirs(target)
    for name in os.listdir(spool):
        key = strategy.segment_key(name)
        if key:
            with open(os.path.join(spool, name), 'rb') as f:
                data = f.read(strategy.written_size(os.path.join(spool, name)))
            with open(os.path.join(target, key), 'wb') as out:
                out.write(data)


def _restore_to(engine, backup, segments, when, workdir):
    engine.stop()
    restore = pg_backup.PgBaseBackup(engine)
    restore.defer_recovery = True
    os.makedirs(workdir)
    restore.restore([backup], workdir)
    shutil.rmtree(workdir)
    copy = segments + '.copy'
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(segments, copy)
    pg_archive.PgReceiveWal(engine).replay(archive_base.ReplayRequest(
        segments_dir=copy, backup_meta=backup[0], target_time=when))


def _restored_ids(env):
    with _connect(env) as conn:
        ids = [r[0] for r in conn.execute('SELECT id FROM ticks ORDER BY id')]
        conn.execute('INSERT INTO ticks DEFAULT VALUES')  # a writable primary
    return ids


def test_restore_to_times(env, engine):
    strategy = pg_archive.PgReceiveWal(engine)
    spool, work = os.path.join(env['base'], 'spool'), os.path.join(env['base'], 'work')
    os.makedirs(spool)
    os.makedirs(work)
    with _connect(env) as conn:
        conn.execute('CREATE TABLE ticks (id serial PRIMARY KEY, '
                     'at timestamptz NOT NULL DEFAULT clock_timestamp())')
    strategy.prepare_stream()
    streamer = Streamer(strategy, spool, os.path.join(env['base'], 'receivewal.log'))
    streamer.start()
    stop = threading.Event()
    writer = threading.Thread(target=_writer, args=(env, stop, 0.005))
    writer.start()
    try:
        time.sleep(1)
        backup = _base_backup(engine, work)
        consistent = datetime.datetime.now(datetime.UTC)
        time.sleep(1.5)
        streamer.kill()  # mid-stream, inside a .partial segment
        time.sleep(0.5)
        streamer.start()
        time.sleep(2)
    finally:
        stop.set()
        writer.join()
    _wait_received(engine)
    streamer.kill(signal.SIGTERM)
    with _connect(env) as conn:
        committed = conn.execute('SELECT id, pg_xact_commit_timestamp(xmin) FROM ticks '
                                 'ORDER BY id').fetchall()
    after = [c for c in committed if c[1] > consistent]
    assert len(after) > 200, len(committed)
    partial = [n for n in os.listdir(spool) if n.endswith(pg_archive.PARTIAL)]
    assert len(partial) == 1, os.listdir(spool)  # the current, pre-allocated segment
    path = os.path.join(spool, partial[0])
    assert 0 < strategy.written_size(path) < os.path.getsize(path)
    segments = os.path.join(env['base'], 'segments')
    _segments(strategy, spool, segments)
    assert strategy.first_segment(backup[0]) in os.listdir(segments)

    middle = after[len(after) // 2][1]
    times = [
        middle,  # exactly a commit: inclusive
        middle + datetime.timedelta(microseconds=-1),
        (consistent + datetime.timedelta(seconds=2)).replace(microsecond=0),
        after[-1][1] + datetime.timedelta(minutes=5),  # after the last commit
    ]
    for n, when in enumerate(times):
        _restore_to(engine, backup, segments, when, os.path.join(work, 'restore-%d' % n))
        expected = [i for i, at in committed if at <= when]
        assert _restored_ids(env) == expected, when
        print('T=%s: %d of %d rows' % (when.isoformat(), len(expected), len(committed)))


def _shipper_process(env, conf_path):
    return subprocess.Popen([sys.executable, '-m', 'tests.functional.archive_shipper_main',
                             conf_path], cwd=REPO, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(env['base'], 'shipper.log'), 'ab'),
                            env=dict(os.environ, PYTHONPATH=REPO))


def _pid(path):
    with open(path) as f:
        return int(f.read())


def _latest(state):
    try:
        with open(os.path.join(state, 'shipped.json')) as f:
            latest = json.load(f)['latest']
    except (OSError, ValueError, KeyError):
        return None
    return datetime.datetime.fromisoformat(latest) if latest else None


def _wait_latest(state, after, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = _latest(state)
        if latest and latest > after:
            return latest
        time.sleep(0.1)
    raise AssertionError('the shipper did not ship past %s' % after)


def test_kill_9_of_stream_and_shipper_loses_no_commit(env, engine):
    """The shipper runs as its own process; pg_receivewal and then the
    shipper are killed with SIGKILL mid-stream, a new shipper adopts the
    orphaned stream; the archive read back from the store restores every
    commit, and every commit older than the reported latest time."""
    base_dir = env['base']
    conf = {'mount_point': CONF.mount_point, 'guest_state_dir': CONF.guest_state_dir,
            'host_address': ADDRESS, 'port': env['port'], 'container': 'archives',
            'prefix': 'pitr/pg-1', 'store': os.path.join(base_dir, 'store'),
            'spool': os.path.join(base_dir, 'spool2'), 'state': os.path.join(base_dir, 'ship')}
    conf_path = os.path.join(base_dir, 'shipper.json')
    with open(conf_path, 'w') as f:
        json.dump(conf, f)
    work = os.path.join(base_dir, 'work2')
    os.makedirs(work)
    with _connect(env) as conn:
        conn.execute('CREATE TABLE ticks2 (id serial PRIMARY KEY)')
    procs = [_shipper_process(env, conf_path)]
    stop = threading.Event()
    writer = threading.Thread(target=_writer, args=(env, stop, 0.005, 'ticks2'))
    try:
        _wait_latest(conf['state'], datetime.datetime.now(datetime.UTC))
        writer.start()
        time.sleep(1)
        backup = _base_backup(engine, work)
        time.sleep(1)
        pid_file = os.path.join(conf['state'], 'stream.pid')
        first_pid = _pid(pid_file)
        os.kill(first_pid, signal.SIGKILL)
        time.sleep(1.5)
        orphan = _pid(pid_file)
        assert orphan != first_pid and os.path.exists('/proc/%d' % orphan)  # restarted
        procs[0].kill()  # the shipper, mid-stream; its pg_receivewal lives on
        killed = datetime.datetime.now(datetime.UTC)
        procs[0].wait()
        snapshot = os.path.join(base_dir, 'store-at-kill')
        shutil.copytree(conf['store'], snapshot)
        reported = _latest(conf['state'])
        time.sleep(1)
        procs.append(_shipper_process(env, conf_path))
        time.sleep(1.5)
        assert _pid(pid_file) == orphan  # adopted, not restarted
    finally:
        stop.set()
        if writer.is_alive():
            writer.join()
    ended = datetime.datetime.now(datetime.UTC)
    try:
        latest = _wait_latest(conf['state'], ended)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(open(os.path.join(conf['state'], 'stream.pid')).read()),
                    signal.SIGKILL)
    with _connect(env) as conn:
        committed = conn.execute('SELECT id, pg_xact_commit_timestamp(xmin) FROM ticks2 '
                                 'ORDER BY id').fetchall()
    print('%d commits; latest shipped %s, %.2fs after the writer stopped'
          % (len(committed), latest.isoformat(), (latest - ended).total_seconds()))
    strategy = pg_archive.PgReceiveWal(engine)
    # What the killed shipper had reported as shipped is in the store it left.
    rpo = (killed - reported).total_seconds()
    print('RPO at the shipper kill: %.2fs' % rpo)
    # One to two shipping intervals (0.4 s) plus the pass that was cut short.
    assert rpo < 1.2
    at_kill = os.path.join(base_dir, 'segments-at-kill')
    shipper.fetch_segments(local.LocalStore(snapshot), 'archives', 'pitr/pg-1', strategy,
                           strategy.first_segment(backup[0]), at_kill)
    _restore_to(engine, backup, at_kill, reported, os.path.join(work, 'restore-kill'))
    with _connect(env) as conn:
        ids = [r[0] for r in conn.execute('SELECT id FROM ticks2 ORDER BY id')]
    assert ids == [i for i, at in committed if at <= reported]
    segments = os.path.join(base_dir, 'segments2')
    keys = shipper.fetch_segments(local.LocalStore(conf['store']), 'archives', 'pitr/pg-1',
                                  strategy, strategy.first_segment(backup[0]), segments)
    assert keys[0] == backup[0]['start_wal']
    middle = committed[len(committed) // 2][1]
    for n, when in enumerate((latest, middle)):
        _restore_to(engine, backup, segments, when, os.path.join(work, 'restore-%d' % n))
        with _connect(env) as conn:
            ids = [r[0] for r in conn.execute('SELECT id FROM ticks2 ORDER BY id')]
        assert ids == [i for i, at in committed if at <= when], when


class _Guest(archive_rpc.ArchiveEndpoints):
    """The archive endpoints of a guest manager, on the test's engine."""

    def __init__(self, engine):
        self.engine = engine


def _store_backup(engine, work, store):
    """A real base backup stored like the guest's backup runner stores one."""
    meta, read, _ = _base_backup(engine, work)
    meta.update({'compression': 'gzip', 'format': 'tar', 'backup_id': 'b-pitr'})
    stored = store.put_stream('backups', 'b-pitr.tar.gz', read(), meta)
    return {'backup_id': 'b-pitr', 'storage_driver': 'local',
            'chain': [{'id': 'b-pitr', 'location': stored.location,
                       'checksum': stored.checksum, 'backup_type': 'full',
                       'storage_driver': 'local'}]}


def test_guest_endpoints_archive_and_restore_to_a_time(env, engine):
    """start_archive / get_archive_status / stop_archive as the guest RPC
    runs them, then the prepare's restore to a time from the store."""
    store_root = os.path.join(env['base'], 'store3')
    CONF.set_override('local_store_path', store_root, group='backup')
    CONF.set_override('datastore_manager', 'postgresql')
    guest = _Guest(engine)
    work = os.path.join(env['base'], 'work3')
    os.makedirs(work)
    try:
        with _connect(env) as conn:
            conn.execute('CREATE TABLE ticks3 (id serial PRIMARY KEY)')
        status = guest.start_archive(None, container='archives', prefix='pitr/g-1',
                                     storage_driver='local')
        assert status['enabled'] is True
        assert os.path.exists(os.path.join(CONF.guest_state_dir, 'archive.json'))
        stop = threading.Event()
        writer = threading.Thread(target=_writer, args=(env, stop, 0.005, 'ticks3'))
        writer.start()
        try:
            time.sleep(0.5)
            info = _store_backup(engine, work, local.LocalStore(store_root))
            time.sleep(2)
        finally:
            stop.set()
            writer.join()
        ended = datetime.datetime.now(datetime.UTC)
        _wait_latest(os.path.join(CONF.guest_state_dir, 'archive'), ended)
        assert archive_restore.parse_time(
            guest.get_archive_status()['latest_restorable_time']) > ended
        assert guest.stop_archive(None) == {'enabled': False, 'latest_restorable_time': None}
        assert engine.admin.execute('SELECT count(*) FROM pg_replication_slots')[0][0] == 0
        with _connect(env) as conn:
            committed = conn.execute('SELECT id, pg_xact_commit_timestamp(xmin) '
                                     'FROM ticks3 ORDER BY id').fetchall()
        when = committed[-len(committed) // 4][1] + datetime.timedelta(microseconds=1)
        info['pitr'] = {'restore_time': when.isoformat(), 'container': 'archives',
                        'prefix': 'pitr/g-1', 'storage_driver': 'local'}
        engine.stop()
        archive_restore.run_pitr_restore(engine, 'postgresql', pg_backup.PgBaseBackup(engine),
                                         info)
        with _connect(env) as conn:
            ids = [r[0] for r in conn.execute('SELECT id FROM ticks3 ORDER BY id')]
        assert ids == [i for i, at in committed if at <= when]
    finally:
        CONF.clear_override('local_store_path', group='backup')
        CONF.clear_override('datastore_manager')


def test_kill_9_of_the_engine_loses_no_archived_commit(env, engine):
    """postgres is killed with SIGKILL while the shipper (a thread, as in the
    agent) archives a writer's commits; once the engine is started again the
    shipper restarts the stream, which resumes from the slot: every commit
    the writer saw acknowledged is restored from the archive."""
    store = local.LocalStore(os.path.join(env['base'], 'store4'))
    ship = shipper.Shipper(pg_archive.PgReceiveWal(engine), store, 'archives', 'pitr/e-1',
                           os.path.join(env['base'], 'spool4'),
                           os.path.join(env['base'], 'ship4'))
    work = os.path.join(env['base'], 'work4')
    os.makedirs(work)
    with _connect(env) as conn:
        conn.execute('CREATE TABLE ticks4 (id serial PRIMARY KEY)')
    acked = []

    def writer(stop):
        while not stop.is_set():
            try:
                with _connect(env) as conn:
                    while not stop.is_set():
                        acked.append(conn.execute('INSERT INTO ticks4 DEFAULT VALUES '
                                                  'RETURNING id').fetchone()[0])
                        time.sleep(0.005)
            except psycopg.OperationalError:
                time.sleep(0.2)  # the engine is down: reconnect

    ship.resume()
    ship.start()
    stop = threading.Event()
    thread = threading.Thread(target=writer, args=(stop,))
    try:
        _wait_latest(ship.state.path.rsplit('/', 1)[0], datetime.datetime.now(datetime.UTC))
        backup = _base_backup(engine, work)
        thread.start()
        time.sleep(1.5)
        os.kill(engine.app.child.running_pid(), signal.SIGKILL)
        time.sleep(1)
        engine.start()
        time.sleep(2)
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
    ended = datetime.datetime.now(datetime.UTC)
    try:
        _wait_latest(ship.state.path.rsplit('/', 1)[0], ended)
    finally:
        ship.stop()
    segments = os.path.join(env['base'], 'segments4')
    strategy = pg_archive.PgReceiveWal(engine)
    shipper.fetch_segments(store, 'archives', 'pitr/e-1', strategy,
                           strategy.first_segment(backup[0]), segments)
    assert acked and len(set(acked)) == len(acked)
    _restore_to(engine, backup, segments, ended, os.path.join(work, 'restore'))
    with _connect(env) as conn:
        ids = {r[0] for r in conn.execute('SELECT id FROM ticks4')}
    assert set(acked) <= ids
    print('%d acknowledged commits across the engine crash, all restored' % len(acked))
