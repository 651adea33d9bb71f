"""MariaDB point-in-time recovery at guest level, against a real mariadbd.

A private engine gets a table that a writer fills with one autocommit row
every 50 ms (its ``NOW(6)`` in UTC); the binary logs are streamed into a
spool by the archive strategy's own command, supervised here as the agent
would (restarted whenever it exits).  A full mariabackup is taken through
the backup strategy and runner into a local store.  While the writer runs,
the streaming process is killed with SIGKILL and later the engine too (and
started again).  Then the spool must hold the engine's binary logs byte for
byte, and restores of the backup into fresh datadirs, replayed up to
several times T without position samples (no shipper here: the coarse rule
of trove/guestagent/archive/mariadb.py alone), must hold exactly the rows
stamped in a second before T's; a transaction whose first row and COMMIT
fall in two seconds counts, whole, at its COMMIT's second.  The sampled,
sub-second restores are tested through the shipper in test_archive_mariadb.
"""
import contextlib
import dataclasses
import datetime
import os
import signal
import stat
import subprocess
import threading
import time

import pytest

from tests.functional import engine_env
from tests.functional import mariadb_archive_env as menv
from trove.backup.stores import local
from trove.common import exception, template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.archive import base as archive_base
from trove.guestagent.archive import mariadb as archive
from trove.guestagent.backup import mariadb as mariabackup
from trove.guestagent.backup import runner
from trove.guestagent.engines import process
from trove.guestagent.engines.mysql import app as app_mod
from trove.guestagent.engines.mysql import manager

ADDRESS = '127.77.254.1'
PASSWORD = 'w-s3cret'
PROGRAMS = ('mariadbd', 'mysqld', 'mariadb-binlog')
UTC = datetime.UTC


@pytest.fixture(scope='module')
def env():
    engine_env.ensure_engine(app_mod.BINARIES, CONF.mariadb.packages, 'mariadbd')
    engine_env.ensure_engine(mariabackup.BINARIES, CONF.backup.packages, 'mariabackup')
    with engine_env.engine_env(ADDRESS, 'mariadb', PROGRAMS, 'trove-mdb-arch-') as env:
        yield env


class Stream:
    """The streaming command, restarted whenever it exits (the agent's job)."""

    def __init__(self, strategy, spool, log_path):
        self.strategy, self.spool, self.log_path = strategy, spool, log_path
        self.proc, self.starts, self.argvs = None, 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                argv = self.strategy.stream_argv(self.spool)
            except Exception:  # the engine is down: its index may be missing
                time.sleep(0.2)
                continue
            self.argvs.append(argv)
            with open(self.log_path, 'ab') as err:
                self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
            self.starts += 1
            self.proc.wait()
            self._stop.wait(0.2)

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)

    def stop(self):
        self._stop.set()
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self._thread.join(10)


def _stream_latency(eng, spool, count=20):
    """Seconds from each COMMIT of a marker row until the spool holds it."""
    latencies = []
    for index in range(count):
        marker = ('mark-%d-%f' % (index, time.time())).encode()
        eng.admin.execute('INSERT INTO shop.marks VALUES (%s)', (marker.decode(),))
        committed = time.monotonic()

        def spooled(marker=marker):
            newest = archive.list_binlogs(spool)[-1]
            return marker in _read(os.path.join(spool, newest))
        assert process.wait_for(spooled, 5, interval=0.005)
        latencies.append(time.monotonic() - committed)
        time.sleep(0.05)
    return latencies


def _binlogs(directory):
    return archive.list_binlogs(directory)


def _read(path, mask=True):
    """A binary log's bytes; with ``mask``, its in-use flag cleared (the one
    bit the server changes after writing it; see the archive module)."""
    with open(path, 'rb') as f:
        data = bytearray(f.read())
    if mask and len(data) > archive.IN_USE_FLAG_OFFSET:
        data[archive.IN_USE_FLAG_OFFSET] &= ~archive.IN_USE_FLAG & 0xFF
    return bytes(data)


def _caught_up(datadir, spool):
    names = _binlogs(datadir)
    return names == _binlogs(spool) and all(
        _read(os.path.join(datadir, n)) == _read(os.path.join(spool, n)) for n in names)


def _differences(datadir, spool):
    """{name: (server size, spool size, offsets of the differing bytes)} of
    the files that differ, compared unmasked."""
    found = {}
    for name in sorted(set(_binlogs(datadir)) | set(_binlogs(spool))):
        a, b = (_read(os.path.join(d, name), mask=False) if os.path.exists(
            os.path.join(d, name)) else b'' for d in (datadir, spool))
        if a != b:
            found[name] = (len(a), len(b), [i for i, (x, y) in enumerate(
                zip(a, b, strict=False)) if x != y][:10])
    return found


def _spanning_transaction(writer, port):
    """One transaction whose first row is stamped second S and its second
    row and COMMIT second S + 1, with no other commit around it; returns S."""
    writer.paused.set()
    time.sleep(0.2)  # the writer's insert in flight is done
    time.sleep(1.05 - time.time() % 1)  # just after a second boundary: S
    conn = writer._connect()
    try:
        with conn.cursor() as cur:
            cur.execute('BEGIN')
            cur.execute('INSERT INTO spans VALUES (1, NOW(6))')
            cur.execute('SELECT NOW()')
            second = cur.fetchone()[0].replace(tzinfo=UTC)
            time.sleep(1.1 - time.time() % 1)
            cur.execute('INSERT INTO spans VALUES (2, NOW(6))')
            cur.execute('COMMIT')
    finally:
        conn.close()
    time.sleep(1.05 - time.time() % 1)
    writer.paused.clear()
    return second


@pytest.fixture(scope='module')
def run(env):
    """The whole recorded scenario; tests check its parts."""
    eng = engine_env.new_engine(env, manager.MariaDBEngine)
    eng.prepare(PrepareRequest(
        memory_mb=512, databases=[{'name': 'shop'}],
        users=[{'name': 'alice', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
        config_contents=template.render_config('mariadb', 512), ds_version='10.11'))
    eng.admin.execute('CREATE TABLE shop.ticks (id INT AUTO_INCREMENT PRIMARY KEY, '
                      'ts DATETIME(6) NOT NULL)')
    eng.admin.execute('CREATE TABLE shop.spans (id INT PRIMARY KEY, ts DATETIME(6))')
    eng.admin.execute('CREATE TABLE shop.marks (m VARCHAR(60))')
    strategy = archive.MariaDBArchive(eng)
    strategy.prepare_stream()
    spool = os.path.join(env['base'], 'spool')
    os.makedirs(spool)
    store = local.LocalStore(root=os.path.join(env['base'], 'store'))
    out = {'engine': eng, 'strategy': strategy, 'spool': spool, 'store': store}
    stream = Stream(strategy, spool, os.path.join(env['base'], 'stream.log'))
    writer = menv.Writer(ADDRESS, env['port'], PASSWORD, 0.05)
    try:
        time.sleep(1.5)
        out['backup_info'] = menv.backup(eng, store)
        out['backup_done'] = datetime.datetime.now(UTC)
        time.sleep(2)
        newest = strategy.newest_segment(spool)
        out['before_kill'] = (newest, _read(os.path.join(spool, newest)))
        stream.kill9()
        eng.admin.execute('FLUSH BINARY LOGS')  # a rotation while nobody streams
        time.sleep(2)
        os.kill(eng.app.running_pid(), signal.SIGKILL)
        process.wait_for(lambda: eng.status() == 'crashed', 10)
        time.sleep(1)
        eng.start()
        out['inc_info'] = menv.backup(eng, store, parent=out['backup_info'])
        out['inc_done'] = datetime.datetime.now(UTC)
        time.sleep(1)
        out['span_second'] = _spanning_transaction(writer, env['port'])
        out['latencies'] = _stream_latency(eng, spool)
        time.sleep(1)
    finally:
        writer.stop()
    out['writer_errors'], out['acked'] = writer.errors, writer.acked
    out['caught_up'] = process.wait_for(lambda: _caught_up(eng.paths.datadir, spool), 30)
    out['diff'] = _differences(eng.paths.datadir, spool)
    out['rows'] = menv.rows(ADDRESS, env['port'], PASSWORD)
    out['spans'] = menv.rows(ADDRESS, env['port'], PASSWORD, 'spans')
    out['starts'] = stream.starts
    out['argvs'] = stream.argvs
    stream.stop()
    out['users'] = [u['name'] for u in eng.list_users()]
    eng.stop()
    return out


def test_backup_records_its_binlog_position(run):
    meta = run['store'].get_metadata(run['backup_info']['chain'][0]['location'])
    assert meta['binlog_file'].startswith('mysql-bin.')
    assert meta['binlog_position'] > 4
    assert meta['binlog_gtid'].startswith('0-')
    assert run['strategy'].first_segment(meta) == meta['binlog_file']


def test_spool_holds_the_binlogs_after_kills(run):
    """kill -9 of the stream and of the engine: no gap, no duplicate."""
    assert run['caught_up'], run['diff']
    # Unmasked, only the in-use flag differs, in logs streamed while written.
    assert all(size == spool_size and offsets == [archive.IN_USE_FLAG_OFFSET]
               for size, spool_size, offsets in run['diff'].values()), run['diff']
    assert run['diff']  # the first files were streamed while the server wrote them
    assert run['writer_errors'] > 0  # the engine really was down
    # Every commit the writer was told of survived the crash (and so is in
    # the binary logs the spool equals; the last restore replays them all).
    assert set(run['acked']) <= {i for i, _ts in run['rows']}
    assert run['starts'] >= 3  # first start, after its kill, after the engine's
    name, before = run['before_kill']
    # The file the killed stream was writing was rewritten from its start:
    # what it held then is a prefix of the final file, byte for byte.
    assert _read(os.path.join(run['spool'], name)).startswith(before)
    # A restart resumes at the newest file the spool held.
    assert run['argvs'][1][-1] == name


def test_stream_login_is_hidden_and_secret(run):
    strategy = run['strategy']
    assert stat.S_IMODE(os.stat(strategy.defaults_file).st_mode) == 0o600
    password = strategy.secret.read()
    assert all(password not in ' '.join(argv) for argv in run['argvs'])
    assert archive.STREAM_USER in CONF.mariadb.ignore_users
    assert run['users'] == ['alice']  # os_archive is hidden
    # Its statements were kept out of the binary log (each member has its own).
    assert all(archive.STREAM_USER.encode() not in _read(os.path.join(run['spool'], n))
               for n in _binlogs(run['spool']))


def _restore(env, run, index, target, info):
    """A fresh engine from backup chain ``info``, replayed up to ``target``."""
    base = os.path.join(env['base'], 'r%d' % index)
    paths = dataclasses.replace(run['engine'].paths, datadir=os.path.join(base, 'data'),
                                run_dir=os.path.join(base, 'run'),
                                log_dir=os.path.join(base, 'log'),
                                state_dir=os.path.join(base, 'state'))
    eng = engine_env.new_engine(env, lambda: manager.MariaDBEngine(paths))
    runner.run_restore(mariabackup.MariaBackup(eng), info, store=run['store'])
    # The newest backup of the chain says where its data ends in the log.
    meta = run['store'].get_metadata(info['chain'][-1]['location'])
    archive.MariaDBArchive(eng).replay(archive_base.ReplayRequest(
        segments_dir=run['spool'], backup_meta=meta, target_time=target))
    return eng


def test_restores_to_several_times(env, run):
    rows = run['rows']
    after, last = run['backup_done'], rows[-1][1]
    # Across the stream's kill, the rotation and the engine's crash.
    seconds = [after + datetime.timedelta(seconds=s) for s in (1, 3, 6)]
    targets = [t.replace(microsecond=0) for t in seconds]
    targets[1] = targets[1].replace(microsecond=400000)  # inside a second
    # Inside the second of a transaction's COMMIT, then in the one after it:
    # a transaction counts at its commit's second, whole.
    span, second = run['span_second'], datetime.timedelta(seconds=1)
    assert [ts.replace(microsecond=0) for _i, ts in run['spans']] == [span, span + second]
    targets += [span + second * 1.5, span + second * 2]
    targets.append(last + datetime.timedelta(seconds=5))  # after the last commit
    for index, target in enumerate(targets):
        # Targets after the incremental restore the chain full + incremental.
        info = run['inc_info'] if target > run['inc_done'] else run['backup_info']
        started = time.monotonic()
        eng = _restore(env, run, index, target, info)
        seconds = time.monotonic() - started
        cutoff = target.replace(microsecond=0)
        expected = [r for r in rows if r[1].replace(microsecond=0) < cutoff]
        restored = menv.rows(ADDRESS, CONF.mariadb.port, PASSWORD)
        assert restored == expected, (target, len(restored), len(expected))
        spans = [i for i, _ts in menv.rows(ADDRESS, CONF.mariadb.port, PASSWORD, 'spans')]
        assert spans == ([1, 2] if cutoff > span + second else [])
        assert 0 < len(expected) <= len(rows)
        # Writable once replayed, and no longer claiming the backup's position.
        assert not os.path.exists(os.path.join(eng.paths.datadir, 'xtrabackup_info'))
        eng.admin.execute('INSERT INTO shop.ticks (ts) VALUES (NOW(6))')
        eng.stop()
        print('restore to %s from %s: %d of %d rows in %.1fs' % (
            target, info['backup_id'], len(expected), len(rows), seconds))
    assert run['inc_info']['chain'][-1]['id'] == 'inc-1'


def test_commits_reach_the_spool_within_a_second(run):
    """The archive's RPO at the source: COMMIT to bytes in the spool file."""
    latencies = sorted(run['latencies'])
    print('commit to spool: median %.1f ms, max %.1f ms' % (
        latencies[len(latencies) // 2] * 1000, latencies[-1] * 1000))
    assert latencies[-1] < 1.0


def test_a_target_before_the_backup_is_refused(env, run):
    """The backup already holds later commits: a clear error, engine untouched."""
    target = run['rows'][0][1].replace(microsecond=0)  # the writer's first second
    with pytest.raises(exception.BadRequest, match='restore from an earlier backup'):
        _restore(env, run, 99, target, run['backup_info'])
    [eng] = [e for e in env['engines'] if e.paths.datadir.endswith('r99/data')]
    assert eng.status() == 'shutdown'
