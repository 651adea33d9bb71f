"""MariaDB point-in-time recovery through the guest's archive and a backup store.

A private mariadbd gets a writer committing one autocommit row every 20 ms
(its ``NOW(6)`` in UTC).  A full mariabackup goes into a local store, then
the archive part of an agent (archive_agent_main: ``start_archive`` with
that backup as ``start_backup``, ``resume_archive`` when restarted) ships
the binary logs into the same store as checksummed chunks.  While the
writer runs, ``mariadb-binlog`` is killed with SIGKILL (the agent restarts
it; it writes its newest file again from the start), then the agent itself
(a new agent adopts the orphaned stream), then the engine (the stream
resumes once it is back).  An incremental backup follows.  Every restore
then reads the archive back from the STORE (fetch_segments, each chunk
checked, and the position sample it stops at) through the prepare's
``run_pitr_restore`` into a fresh datadir: to several times T, among them
the sub-second times of stored samples, it must hold exactly the rows the
rule of trove/guestagent/archive/mariadb.py gives (those of the seconds
before T's, those acknowledged before the sample at or before T, none
stamped after it: mariadb_archive_env.check_restored), and to the latest
restorable time every insert the writer was acknowledged, across the
engine's crash.
"""
import contextlib
import dataclasses
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.functional import engine_env
from tests.functional import mariadb_archive_env as menv
from trove.backup.stores import local
from trove.common import template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent import archive_rpc
from trove.guestagent.archive import mariadb as archive
from trove.guestagent.archive import restore as archive_restore
from trove.guestagent.archive import shipper
from trove.guestagent.backup import mariadb as mariabackup
from trove.guestagent.engines import process
from trove.guestagent.engines.mysql import app as app_mod
from trove.guestagent.engines.mysql import manager

ADDRESS = '127.77.253.1'
PASSWORD = 'a-s3cret'
PROGRAMS = ('mariadbd', 'mysqld', 'mariadb-binlog')
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UTC = datetime.UTC
PREFIX = 'pitr/m-1'


@pytest.fixture(scope='module')
def env():
    engine_env.ensure_engine(app_mod.BINARIES, CONF.mariadb.packages, 'mariadbd')
    engine_env.ensure_engine(mariabackup.BINARIES, CONF.backup.packages, 'mariabackup')
    with engine_env.engine_env(ADDRESS, 'mariadb', PROGRAMS, 'trove-mdb-pitr-') as env:
        store = os.path.join(env['base'], 'store')
        CONF.set_override('local_store_path', store, group='backup')
        CONF.set_override('datastore_manager', 'mariadb')
        env['store'] = local.LocalStore(root=store)
        try:
            yield env
        finally:
            CONF.clear_override('local_store_path', group='backup')
            CONF.clear_override('datastore_manager')


def _agent(env, conf_path):
    logs = os.environ.get('TROVE_TEST_LOGS') or env['base']
    os.makedirs(logs, exist_ok=True)
    log = open(os.path.join(logs, 'archive-agent.log'), 'ab')
    with log:
        return subprocess.Popen([sys.executable, '-m', 'tests.functional.archive_agent_main',
                                 conf_path], cwd=REPO, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, env=dict(os.environ, PYTHONPATH=REPO))


def _state_dir():
    return os.path.join(CONF.guest_state_dir, 'archive')


def _pid(name='stream.pid'):
    with open(os.path.join(_state_dir(), name)) as f:
        return int(f.read())


def _pid_or_none():
    try:
        return _pid()
    except (OSError, ValueError):
        return None


def _latest():
    try:
        with open(os.path.join(_state_dir(), 'shipped.json')) as f:
            latest = json.load(f)['latest']
    except (OSError, ValueError, KeyError):
        return None
    return datetime.datetime.fromisoformat(latest) if latest else None


def _wait_latest(after, timeout=30):
    assert process.wait_for(lambda: (_latest() or after) > after, timeout), after
    return _latest()


class _Guest(archive_rpc.ArchiveEndpoints):
    def __init__(self, engine):
        self.engine = engine


@pytest.fixture(scope='module')
def run(env):
    """The recorded scenario; the tests check its parts."""
    eng = engine_env.new_engine(env, manager.MariaDBEngine)
    eng.prepare(PrepareRequest(
        memory_mb=512, databases=[{'name': 'shop'}],
        users=[{'name': 'alice', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
        config_contents=template.render_config('mariadb', 512), ds_version='10.11'))
    eng.admin.execute('CREATE TABLE shop.ticks (id INT AUTO_INCREMENT PRIMARY KEY, '
                      'ts DATETIME(6) NOT NULL)')
    store, out = env['store'], {'engine': eng}
    conf_path = os.path.join(env['base'], 'agent.json')
    writer, agents = menv.Writer(ADDRESS, env['port'], PASSWORD, 0.02), []
    try:
        time.sleep(1)
        eng.admin.execute('FLUSH BINARY LOGS')  # the backup is not in the oldest log
        out['full'] = menv.backup(eng, store, storage_driver='local')
        out['full_done'] = datetime.datetime.now(UTC)
        with open(conf_path, 'w') as f:
            json.dump({'datastore': 'mariadb', 'mount_point': CONF.mount_point,
                       'guest_state_dir': CONF.guest_state_dir, 'host_address': ADDRESS,
                       'port': env['port'], 'store': CONF.backup.local_store_path,
                       'container': 'archives', 'prefix': PREFIX,
                       'start_backup': out['full']['chain'][0]['location']}, f)
        agents.append(_agent(env, conf_path))
        _wait_latest(datetime.datetime.now(UTC))
        time.sleep(1.5)
        out['stream_pids'] = [_pid()]
        os.kill(out['stream_pids'][0], signal.SIGKILL)  # mid-stream
        out['stream_killed'] = datetime.datetime.now(UTC)
        # The pid file is gone while the agent starts the next stream.
        assert process.wait_for(lambda: _pid_or_none() not in (None, out['stream_pids'][0]),
                                10)
        out['stream_pids'].append(_pid())
        time.sleep(1.5)
        agents[0].kill()  # the agent, mid-stream: its stream lives on
        out['agent_killed'] = datetime.datetime.now(UTC)
        agents[0].wait()
        # What the killed agent had reported must be in the store it left.
        out['reported_at_kill'] = _latest()
        out['store_at_kill'] = os.path.join(env['base'], 'store-at-kill')
        shutil.copytree(CONF.backup.local_store_path, out['store_at_kill'])
        time.sleep(1)
        agents.append(_agent(env, conf_path))
        _wait_latest(datetime.datetime.now(UTC))
        out['adopted'] = _pid()
        os.kill(eng.app.running_pid(), signal.SIGKILL)
        out['engine_killed'] = datetime.datetime.now(UTC)
        process.wait_for(lambda: eng.status() == 'crashed', 10)
        time.sleep(1)
        eng.start()
        out['inc'] = menv.backup(eng, store, parent=out['full'], storage_driver='local')
        out['inc_done'] = datetime.datetime.now(UTC)
        time.sleep(1.5)
    except BaseException:
        for agent in agents:  # a scenario cut short leaves no agent behind
            agent.kill()
            agent.wait()
        raise
    finally:
        writer.stop()
        out['writer_errors'], out['acked'] = writer.errors, writer.acked
        out['acked_at'] = writer.acked_at
    try:
        out['ended'] = datetime.datetime.now(UTC)
        out['latest'] = _wait_latest(out['ended'] + datetime.timedelta(seconds=1))
    finally:
        for agent in agents:
            agent.kill()
            agent.wait()
    # The agent restarted here resumes from the state dir, and reports.
    guest = _Guest(eng)
    guest.resume_archive()
    out['status'] = guest.get_archive_status()
    out['stopped'] = guest.stop_archive(None)
    with contextlib.suppress(OSError, ValueError):
        os.kill(_pid(), signal.SIGKILL)  # the stream stop_archive did not know
    out['rows'] = menv.rows(ADDRESS, env['port'], PASSWORD)
    # As they are before the shutdown logs its stop event.
    out['binlogs'] = archive.list_binlogs(eng.paths.datadir)
    out['server_logs'] = os.path.join(env['base'], 'server-binlogs')
    os.makedirs(out['server_logs'])
    for name in out['binlogs']:
        shutil.copy(os.path.join(eng.paths.datadir, name), out['server_logs'])
    eng.stop()
    return out


def test_archive_survives_kills_of_the_stream_and_the_agent(env, run):
    assert run['stream_pids'][1] != run['stream_pids'][0]  # the agent restarted it
    assert run['adopted'] == run['stream_pids'][1]  # the new agent adopted it
    assert run['writer_errors'] > 0  # the engine really was down
    assert run['status']['enabled'] is True
    # Read back from the state the killed agents left (and maybe advanced since).
    assert archive_restore.parse_time(run['status']['latest_restorable_time']) >= run['latest']
    # The newest archived position sample: sub-second times (an idle
    # engine's samples are not stored again, its time moves on).
    stored = menv.samples(env['store'], 'archives', PREFIX)
    assert run['latest'] > run['ended'] and len(stored) > 10
    assert len({t.microsecond for _a, t in stored}) > len(stored) // 2
    assert run['stopped'] == {'enabled': False, 'latest_restorable_time': None}
    assert not os.path.exists(os.path.join(CONF.guest_state_dir, 'archive.json'))


def test_store_holds_the_binlogs_from_the_backup_on(env, run):
    """The archive began at the start backup's log; what the store holds
    is the engine's binary logs byte for byte, but the in-use flag."""
    first = run['full']['chain'][0]
    meta = env['store'].get_metadata(first['location'])
    chunks = shipper.list_chunks(env['store'], 'archives', PREFIX)
    assert min(chunks, key=archive.binlog_number) == meta['binlog_file']
    assert meta['binlog_file'] != run['binlogs'][0]  # not the oldest: start_backup
    out = os.path.join(env['base'], 'fetched')
    keys = shipper.fetch_segments(env['store'], 'archives', PREFIX, archive.MariaDBArchive(
        run['engine']), meta['binlog_file'], out)
    assert keys == run['binlogs'][run['binlogs'].index(meta['binlog_file']):]
    for key in keys:
        with open(os.path.join(run['server_logs'], key), 'rb') as a, open(os.path.join(out, key),
                                                               'rb') as b:
            server, archived = bytearray(a.read()), bytearray(b.read())
        for data in (server, archived):
            data[archive.IN_USE_FLAG_OFFSET] &= ~archive.IN_USE_FLAG & 0xFF
        assert server == archived, key
    shutil.rmtree(out)


def _restore(env, run, index, target, info):
    """run_pitr_restore of chain ``info`` to ``target`` into a fresh datadir."""
    base = os.path.join(env['base'], 'r%d' % index)
    paths = dataclasses.replace(run['engine'].paths, datadir=os.path.join(base, 'data'),
                                run_dir=os.path.join(base, 'run'),
                                log_dir=os.path.join(base, 'log'),
                                state_dir=os.path.join(base, 'state'))
    eng = engine_env.new_engine(env, lambda: manager.MariaDBEngine(paths))
    info = dict(info, pitr={'restore_time': target.isoformat(), 'container': 'archives',
                            'prefix': PREFIX, 'storage_driver': 'local'})
    archive_restore.run_pitr_restore(eng, 'mariadb', mariabackup.MariaBackup(eng), info)
    return eng


def test_what_a_killed_agent_reported_was_in_its_store(env, run):
    reported, rows = run['reported_at_kill'], run['rows']
    lag = (run['agent_killed'] - reported).total_seconds()
    print('latest restorable time %.2fs behind the agent kill' % lag)
    # A sample of the last pass or two (0.4 s apart), and the pass cut short.
    assert 0 < lag < 1.3
    root = CONF.backup.local_store_path
    full = dict(run['full'], chain=[dict(e, location=e['location'].replace(
        root, run['store_at_kill'], 1)) for e in run['full']['chain']])
    CONF.set_override('local_store_path', run['store_at_kill'], group='backup')
    try:
        eng = _restore(env, run, 50, reported, full)
    finally:
        CONF.set_override('local_store_path', os.path.join(env['base'], 'store'),
                          group='backup')
    samples = menv.samples(local.LocalStore(run['store_at_kill']), 'archives', PREFIX)
    assert samples[-1][1] == reported  # stored before it was reported
    restored = menv.rows(ADDRESS, CONF.mariadb.port, PASSWORD)
    menv.check_restored(restored, rows, run['acked_at'], reported, samples)
    eng.stop()


def test_restores_from_the_store_to_several_times(env, run):
    rows, second = run['rows'], datetime.timedelta(seconds=1)
    targets = [
        run['stream_killed'] + second / 2,  # while the stream rewrote its file
        run['agent_killed'],  # no agent was shipping
        (run['engine_killed'] + second).replace(microsecond=0),  # after the crash
        run['latest'],  # the latest restorable time: every acknowledged insert
    ]
    samples = menv.samples(env['store'], 'archives', PREFIX)
    for index, target in enumerate(targets):
        # After the incremental, from the chain: the replay starts at its position.
        info = run['inc'] if target > run['inc_done'] else run['full']
        started = time.monotonic()
        eng = _restore(env, run, index, target, info)
        seconds = time.monotonic() - started
        restored = menv.rows(ADDRESS, CONF.mariadb.port, PASSWORD)
        count, _added = menv.check_restored(restored, rows, run['acked_at'], target,
                                            samples)
        assert 0 < count <= len(rows)
        eng.admin.execute('INSERT INTO shop.ticks (ts) VALUES (NOW(6))')  # writable
        eng.stop()
        print('restore to %s from %s: %d of %d rows in %.1fs' % (
            target.isoformat(), info['backup_id'], count, len(rows), seconds))
    # The last restore held every insert acknowledged across the engine's crash.
    assert set(run['acked']) <= {i for i, ts in rows if ts <= run['latest']}
    assert run['inc']['chain'][-1]['id'] == 'inc-1'


def test_restores_to_sub_second_sample_times(env, run):
    """To the time of a stored sample, and a little after it: the rows of
    the target's own second up to the sample are there, none after it."""
    rows, samples = run['rows'], menv.samples(env['store'], 'archives', PREFIX)
    # Samples while the writer ran steadily (before the stream was killed),
    # late in their second so that the sample adds rows to the whole seconds.
    steady = [s for s in samples if run['full_done'] < s[1] < run['stream_killed']
              and s[1].microsecond > 300000]
    assert len(steady) >= 2, samples
    picked = [steady[0][1], steady[-1][1] + datetime.timedelta(milliseconds=150)]
    for index, target in enumerate(picked):
        eng = _restore(env, run, 20 + index, target, run['full'])
        restored = menv.rows(ADDRESS, CONF.mariadb.port, PASSWORD)
        count, added = menv.check_restored(restored, rows, run['acked_at'], target, samples)
        eng.stop()
        # The sample stopped the replay inside the target's second.
        assert added >= 5, (target, added)
        newest = restored[-1][1]
        assert newest <= target and (target - newest).total_seconds() < 0.6, (target, newest)
        print('restore to %s: %d rows, %d of them from its own second, newest %.3fs before'
              % (target.isoformat(), count, added, (target - newest).total_seconds()))
