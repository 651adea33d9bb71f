"""Benchmark: replica build time vs backup + restore, and replication lag under load.

A primary (MariaDB, or PostgreSQL with ``--datastore postgresql``) is
filled with ``--size-mb`` of data (tools/bench/backup.py's fill).  Then:

* baseline: ``POST /backups`` until COMPLETED, then ``POST /instances``
  with that ``restorePoint`` until HEALTHY: what a user would do by hand
  to copy the data;
* replica: ``POST /instances`` with ``replica_of`` until HEALTHY (the
  snapshot, the restore and the attach to the primary's stream);

and prints ``replica build / (backup + restore)`` against the target of
1.2x.  Then a steady write load runs on the primary (``--rate`` single-row
inserts per second from one client) for ``--seconds``; once a second a
probe row is written and the time until it is visible on the replica is
measured, giving the lag's median, p99 and maximum, next to the lag the
replica's guest reports in the mgmt show.  Not part of the test run:

    .venv/bin/python tools/bench/replication.py --size-mb 1024
    .venv/bin/python tools/bench/replication.py --datastore postgresql --size-mb 1024
"""
import argparse
import os
import statistics
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)

import backup as bench  # noqa: E402
from tests.functional.stack import Stack  # noqa: E402

TARGET = 1.2


class MariaDB:
    def __init__(self, address):
        import pymysql
        self.connect = lambda: pymysql.connect(host=address, user='bench',
                                               password='bench-Pw1', database='bench',
                                               autocommit=True)

    def setup(self, conn):
        with conn.cursor() as cur:
            cur.execute('CREATE TABLE IF NOT EXISTS probe (tag CHAR(32) PRIMARY KEY)')
            cur.execute('CREATE TABLE IF NOT EXISTS load_t (id BIGINT AUTO_INCREMENT '
                        'PRIMARY KEY, pad VARCHAR(64))')

    def execute(self, conn, sql, args=None):
        with conn.cursor() as cur:
            cur.execute(sql.replace('$1', '%s'), args)
            return cur.fetchall() if cur.description else []


class PostgreSQL:
    def __init__(self, address):
        import psycopg
        self.connect = lambda: psycopg.connect(host=address, user='bench',
                                               password='bench-Pw1', dbname='bench',
                                               autocommit=True)

    def setup(self, conn):
        conn.execute('CREATE TABLE IF NOT EXISTS probe (tag CHAR(32) PRIMARY KEY)')
        conn.execute('CREATE TABLE IF NOT EXISTS load_t (id BIGSERIAL PRIMARY KEY, '
                     'pad VARCHAR(64))')

    def execute(self, conn, sql, args=None):
        cur = conn.execute(sql.replace('$1', '%s'), args)
        return cur.fetchall() if cur.description else []


def timed_instance(stack, name, datastore, **extra):
    start = time.monotonic()
    body = {'name': name}
    body.update(extra)
    if 'replica_of' not in extra:
        body.update(flavorRef='2', volume={'size': 10},
                    datastore={'type': datastore[0], 'version': datastore[1]})
    code, resp = stack.request('POST', '/instances', {'instance': body})
    assert code == 200, resp
    iid = resp['instance']['id']
    inst = bench._wait(stack, '/instances/%s' % iid, lambda c, b: b['instance'][
        'status'] == 'ERROR' or b['instance']['operating_status'] == 'HEALTHY')['instance']
    if inst['status'] == 'ERROR':
        raise RuntimeError('instance %s failed: %s' % (name, inst.get('fault')))
    return iid, inst['addresses'][0]['address'], time.monotonic() - start


def lag_under_load(stack, engine_cls, primary_addr, replica_addr, replica_id, rate, seconds):
    """Probe latencies (s) primary commit -> visible on the replica, and the
    guest-reported lags seen meanwhile."""
    primary, replica = engine_cls(primary_addr), engine_cls(replica_addr)
    conn = primary.connect()
    primary.setup(conn)
    stop = threading.Event()
    written = [0]

    def load():
        c = primary.connect()
        interval = 1.0 / rate
        next_at = time.monotonic()
        while not stop.is_set():
            primary.execute(c, 'INSERT INTO load_t (pad) VALUES ($1)', (uuid.uuid4().hex,))
            written[0] += 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        c.close()

    writer = threading.Thread(target=load, daemon=True)
    writer.start()
    rconn = replica.connect()
    latencies, reported = [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        tag = uuid.uuid4().hex
        primary.execute(conn, 'INSERT INTO probe (tag) VALUES ($1)', (tag,))
        sent = time.monotonic()
        while not replica.execute(rconn, 'SELECT 1 FROM probe WHERE tag = $1', (tag,)):
            if time.monotonic() - sent > 60:
                raise RuntimeError('probe not replicated within 60 s')
            time.sleep(0.001)
        latencies.append(time.monotonic() - sent)
        shown = stack.request('GET', '/mgmt/instances/%s' % replica_id)[1]['instance']
        if shown.get('replication', {}).get('lag') is not None:
            reported.append(shown['replication']['lag'])
        time.sleep(max(0.0, 1.0 - (time.monotonic() - sent)))
    stop.set()
    writer.join(10)
    conn.close()
    rconn.close()
    return latencies, reported, written[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size-mb', type=int, default=1024)
    parser.add_argument('--datastore', choices=('mariadb', 'postgresql'), default='mariadb')
    parser.add_argument('--rate', type=int, default=200, help='load inserts per second')
    parser.add_argument('--seconds', type=int, default=30, help='length of the load')
    args = parser.parse_args()
    stack = Stack(tenant='bench', usage_timeout=1800)
    store = os.path.join(stack.dir, 'backups')
    with open(stack.conf, 'a') as f:
        f.write('[backup]\nlocal_store_path = %s\n' % store)
    try:
        if args.datastore == 'postgresql':
            from trove.guestagent.engines.postgresql import app as pg_app
            version = os.path.basename(os.path.dirname(pg_app.bin_dirs()[0]))
            stack.start(datastore_versions=[('postgresql', version, 'postgresql')])
            datastore, fill, engine_cls = ('postgresql', version), bench.pg_fill, PostgreSQL
        else:
            stack.start()
            from tests.functional.stack import engine_version
            datastore, fill, engine_cls = ('mariadb', engine_version()), bench.fill, MariaDB
        code, resp = stack.request('POST', '/instances', {'instance': {
            'name': 'bench-primary', 'flavorRef': '2', 'volume': {'size': 10},
            'datastore': {'type': datastore[0], 'version': datastore[1]},
            'databases': [{'name': 'bench'}],
            'users': [{'name': 'bench', 'password': 'bench-Pw1',
                       'databases': [{'name': 'bench'}]}]}})
        assert code == 200, resp
        primary_id = resp['instance']['id']
        primary = bench._wait(stack, '/instances/%s' % primary_id, lambda c, b: b[
            'instance']['operating_status'] == 'HEALTHY')['instance']
        primary_addr = primary['addresses'][0]['address']
        t0 = time.monotonic()
        fill(primary_addr, args.size_mb)
        print('filled %d MB in %.1fs' % (args.size_mb, time.monotonic() - t0))

        backup_id, backup_s, _stored = bench.product_backup(stack, primary_id)
        restore_id, _addr, restore_s = timed_instance(
            stack, 'bench-restore', datastore, restorePoint={'backupRef': backup_id})
        replica_id, replica_addr, replica_s = timed_instance(
            stack, 'bench-replica', datastore, replica_of=primary_id)
        baseline = backup_s + restore_s
        print('%-46s %7.1fs' % ('backup (POST -> COMPLETED)', backup_s))
        print('%-46s %7.1fs' % ('restore (POST restorePoint -> HEALTHY)', restore_s))
        print('%-46s %7.1fs' % ('backup + restore', baseline))
        print('%-46s %7.1fs' % ('replica build (POST replica_of -> HEALTHY)', replica_s))
        ratio = replica_s / baseline
        print('replica build / (backup + restore): %.2fx (target <= %.1fx: %s)'
              % (ratio, TARGET, 'met' if ratio <= TARGET else 'NOT met'))
        stack.request('DELETE', '/instances/%s' % restore_id)

        latencies, reported, written = lag_under_load(
            stack, engine_cls, primary_addr, replica_addr, replica_id, args.rate,
            args.seconds)
        ms = sorted(x * 1000 for x in latencies)
        p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
        print('load: %d inserts in %ds (%.0f/s) on the primary'
              % (written, args.seconds, written / args.seconds))
        print('lag (commit on primary -> visible on replica), %d probes: median %.1f ms, '
              'p99 %.1f ms, max %.1f ms' % (len(ms), statistics.median(ms), p99, ms[-1]))
        unit = 'bytes' if args.datastore == 'postgresql' else 's'
        if reported:
            print('lag reported in the mgmt show: max %s %s over %d readings'
                  % (max(reported), unit, len(reported)))
    finally:
        stack.stop()


if __name__ == '__main__':
    main()
