"""The MariaDB case of tools/bench/pitr.py (run through it: ``--engine mariadb``).

A private mariadbd takes a full mariabackup into a local store while the
archive shipper streams its binary logs (mariadb-binlog --raw
--stop-never); a writer inserts ``rate`` rows a second stamped NOW(6) for
``seconds``, then mariadbd is killed with SIGKILL.  RPO and restore are
measured as for PostgreSQL, the restore to the newest recoverable time
(the newest archived position sample) checked row by row against the rule
of trove/guestagent/archive/mariadb.py (mariadb_archive_env.check_restored);
the RPO is the kill time minus the stamp of the newest restored row.
"""
import dataclasses
import datetime
import os
import signal
import time

from tests.functional import engine_env
from tests.functional import mariadb_archive_env as menv
from trove.backup.stores import local
from trove.common import template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.archive import base as archive_base
from trove.guestagent.archive import mariadb as archive
from trove.guestagent.archive import shipper
from trove.guestagent.backup import mariadb as mariabackup
from trove.guestagent.backup import runner
from trove.guestagent.engines.mysql import manager

ADDRESS = '127.77.248.9'
PASSWORD = 'bench-Pw1'
PROGRAMS = ('mariadbd', 'mysqld', 'mariadb-binlog')
UTC = datetime.UTC


def _engine(env, paths=None):
    eng = engine_env.new_engine(env, (lambda: manager.MariaDBEngine(paths)) if paths
                                else manager.MariaDBEngine)
    if paths is None:
        eng.prepare(PrepareRequest(
            memory_mb=512, databases=[{'name': 'shop'}],
            users=[{'name': 'alice', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
            config_contents=template.render_config('mariadb', 512), ds_version='10.11'))
        eng.admin.execute('CREATE TABLE shop.ticks (id INT AUTO_INCREMENT PRIMARY KEY, '
                          "ts DATETIME(6) NOT NULL, pad VARCHAR(200) DEFAULT '')")
    return eng


def _wait_latest(ship, after, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ship.state.latest and datetime.datetime.fromisoformat(ship.state.latest) > after:
            return
        time.sleep(0.1)
    raise AssertionError('the archive did not pass %s' % after)


def run(env, rate, seconds):
    base = env['base']
    eng = _engine(env)
    store = local.LocalStore(os.path.join(base, 'store'))
    ship = shipper.Shipper(archive.MariaDBArchive(eng), store, 'archives', 'pitr/bench',
                           os.path.join(base, 'spool'), os.path.join(base, 'ship'))
    ship.resume()
    ship.start()
    _wait_latest(ship, datetime.datetime.now(UTC))
    info = menv.backup(eng, store)
    writer = menv.Writer(ADDRESS, env['port'], PASSWORD, 1.0 / rate)
    time.sleep(seconds)
    os.kill(eng.app.running_pid(), signal.SIGKILL)
    killed = datetime.datetime.now(UTC)
    writer.stop()
    time.sleep(1)
    ship.stop()
    latest = datetime.datetime.fromisoformat(ship.state.latest)
    eng.start()
    committed = menv.rows(ADDRESS, env['port'], PASSWORD)
    eng.stop()
    samples = menv.samples(store, 'archives', 'pitr/bench')
    started = time.monotonic()
    segments = os.path.join(base, 'segments')
    meta = store.get_metadata(info['chain'][-1]['location'])
    restore_eng = _restore_engine(env, eng)
    strategy = archive.MariaDBArchive(restore_eng)
    shipper.fetch_segments(store, 'archives', 'pitr/bench', strategy,
                           strategy.first_segment(meta), segments)
    fetched = time.monotonic() - started
    runner.run_restore(mariabackup.MariaBackup(restore_eng), info, store=store)
    position = shipper.position_at(store, 'archives', 'pitr/bench', strategy,
                                   strategy.first_segment(meta), latest)
    strategy.replay(archive_base.ReplayRequest(segments_dir=segments, backup_meta=meta,
                                               target_time=latest, position=position))
    total = time.monotonic() - started
    restored = menv.rows(ADDRESS, CONF.mariadb.port, PASSWORD)
    menv.check_restored(restored, committed, writer.acked_at, latest, samples)
    _report(committed, restored, killed, latest, seconds, total, fetched, store, info)


def _restore_engine(env, eng):
    root = os.path.join(env['base'], 'restore')
    paths = dataclasses.replace(eng.paths, datadir=os.path.join(root, 'data'),
                                run_dir=os.path.join(root, 'run'),
                                log_dir=os.path.join(root, 'log'),
                                state_dir=os.path.join(root, 'state'))
    return _engine(env, paths)


def _report(committed, recoverable, killed, latest, seconds, total, fetched, store, info):
    newest = recoverable[-1][1]
    print('mariadb: commits %d in %.0fs; RPO %.3fs (kill %s, recoverable time %s, newest '
          'recoverable commit %s); %d commits after it lost'
          % (len(committed), seconds, (killed - newest).total_seconds(), killed.time(),
             latest.time(), newest.time(), len(committed) - len(recoverable)))
    archive_bytes = sum(int(store.get_metadata(loc)['size'])
                        for _n, loc in store.list_objects('archives', 'pitr/bench/'))
    backup_bytes = int(store.get_metadata(info['chain'][0]['location'])['size'])
    print('mariadb: restore to the recoverable time: %.2fs (archive read back %.2fs); '
          'backup %.1f MB, archive %.1f MB in %d chunks'
          % (total, fetched, backup_bytes / 1e6, archive_bytes / 1e6,
             len(store.list_objects('archives', 'pitr/bench/'))))
