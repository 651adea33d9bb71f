"""Benchmark: RPO of the continuous archive and restore time to a point in time.

A private PostgreSQL or MariaDB (``--engine``; the functional tests' engine
fixtures) takes a full backup into a local store while the archive shipper
(a thread, as in the agent) streams its WAL or binary logs; a writer
commits ``--rate`` rows a second for ``--seconds``, then the engine is
killed with SIGKILL.

* RPO: the kill time minus the commit time of the newest commit at or
  before the newest time the shipper reported as recoverable, i.e. the age
  of the newest commit a restore could bring back at the moment the
  primary died (the restore below checks it is really there).
* Restore: reading the archive back from the store plus the base restore
  and the recovery to that time, against the backup and archive sizes.

Not part of the test run:

    .venv/bin/python tools/bench/pitr.py --rate 200 --seconds 20 [--engine mariadb]

MariaDB stamps commits in whole seconds; its recoverable time is the newest
archived sample of its log position (taken every 0.4 s, as PostgreSQL's
passes), so its RPO is of the same order as PostgreSQL's.
"""
import argparse
import datetime
import os
import signal
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.functional import engine_env  # noqa: E402
from tests.functional import test_archive_postgresql as pitr_test  # noqa: E402
from trove.backup.stores import local  # noqa: E402
from trove.guestagent.archive import base as archive_base  # noqa: E402
from trove.guestagent.archive import postgresql as pg_archive  # noqa: E402
from trove.guestagent.archive import shipper  # noqa: E402
from trove.guestagent.backup import postgresql as pg_backup  # noqa: E402


def _writer(env, stop, rate):
    with pitr_test._connect(env) as conn:
        while not stop.is_set():
            try:
                conn.execute('INSERT INTO bench DEFAULT VALUES')
            except Exception:
                return  # the engine was killed
            time.sleep(1.0 / rate)


def _size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def run(env, rate, seconds):
    eng = pitr_test.make_engine(env)
    base = env['base']
    store = local.LocalStore(os.path.join(base, 'store'))
    strategy = pg_archive.PgReceiveWal(eng)
    ship = shipper.Shipper(strategy, store, 'archives', 'pitr/bench',
                           os.path.join(base, 'spool'), os.path.join(base, 'ship'))
    with pitr_test._connect(env) as conn:
        conn.execute('CREATE TABLE bench (id serial PRIMARY KEY, pad text DEFAULT '
                     "repeat('x', 200))")
    ship.resume()
    ship.start()
    work = os.path.join(base, 'work')
    os.makedirs(work)
    pitr_test._wait_latest(os.path.join(base, 'ship'), datetime.datetime.now(datetime.UTC))
    backup = pitr_test._base_backup(eng, work)
    stop = threading.Event()
    writer = threading.Thread(target=_writer, args=(env, stop, rate))
    writer.start()
    time.sleep(seconds)
    os.kill(eng.app.child.running_pid(), signal.SIGKILL)
    killed = datetime.datetime.now(datetime.UTC)
    stop.set()
    writer.join()
    time.sleep(1)
    ship.stop()
    latest = datetime.datetime.fromisoformat(ship.state.latest)
    eng.start()
    with pitr_test._connect(env) as conn:
        committed = conn.execute('SELECT id, pg_xact_commit_timestamp(xmin) FROM bench '
                                 'ORDER BY id').fetchall()
    recoverable = [c for c in committed if c[1] <= latest]
    started = time.monotonic()
    segments = os.path.join(base, 'segments')
    shipper.fetch_segments(store, 'archives', 'pitr/bench', strategy,
                           strategy.first_segment(backup[0]), segments)
    fetched = time.monotonic() - started
    eng.stop()
    restore = pg_backup.PgBaseBackup(eng)
    restore.defer_recovery = True
    os.makedirs(os.path.join(work, 'restore'))
    restore.restore([backup], os.path.join(work, 'restore'))
    strategy.replay(archive_base.ReplayRequest(segments_dir=segments, backup_meta=backup[0],
                                               target_time=latest))
    total = time.monotonic() - started
    with pitr_test._connect(env) as conn:
        got = conn.execute('SELECT count(*) FROM bench').fetchone()[0]
    assert got == len(recoverable), (got, len(recoverable))
    print('commits %d in %.0fs; RPO %.3fs (kill %s, newest recoverable commit %s)'
          % (len(committed), seconds, (killed - recoverable[-1][1]).total_seconds(),
             killed.time(), recoverable[-1][1].time()))
    print('restore to the newest recoverable time: %.2fs (archive read back %.2fs); '
          'base backup %.1f MB, archive %.1f MB in %d chunks'
          % (total, fetched, os.path.getsize(os.path.join(work, 'base.tar.gz')) / 1e6,
             _size(os.path.join(base, 'store')) / 1e6,
             len(store.list_objects('archives', 'pitr/bench/'))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rate', type=float, default=200, help='commits per second')
    parser.add_argument('--seconds', type=float, default=20)
    parser.add_argument('--engine', choices=('postgresql', 'mariadb'), default='postgresql')
    args = parser.parse_args()
    if args.engine == 'mariadb':
        from tools.bench import pitr_mariadb
        with engine_env.engine_env(pitr_mariadb.ADDRESS, 'mariadb', pitr_mariadb.PROGRAMS,
                                   'trove-bench-pitr-') as env:
            pitr_mariadb.run(env, args.rate, args.seconds)
        return
    with engine_env.engine_env(pitr_test.ADDRESS, 'postgresql', pitr_test.PROGRAMS,
                               'trove-bench-pitr-') as env:
        run(env, args.rate, args.seconds)


if __name__ == '__main__':
    main()
