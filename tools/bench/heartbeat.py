"""Benchmark: heartbeat capacity of the real conductor with sealed messages.

A private stack gets ``--guests`` instance rows, each with its own RPC key
(encrypted with the master key, as the API makes them).  This process then
plays every guest with the real guest client code (ConductorAPI with the
guest's serializer: each message sealed with that guest's key) and casts
heartbeats at ``--rate`` per second for ``--seconds``, round-robin over the
guests, to ``--conductors`` conductor processes on one queue.  Printed:

* the conductors' CPU (utime + stime from /proc) per heartbeat and as a
  share of one core at that rate (target: <= 50% of one core at 333/s for
  one conductor);
* the lag: after the load, one more heartbeat per guest is sent and timed
  until the database has applied all of them (target: under one heartbeat
  interval, ``--interval`` s).

The infrastructure database is a SQLite file unless ``--db`` names another:
a URL, or ``mariadb`` for a private database (and account) on the local
MariaDB server, made by root over its socket and dropped afterwards.

    .venv/bin/python tools/bench/heartbeat.py --guests 10000 --rate 333
    .venv/bin/python tools/bench/heartbeat.py --guests 10000 --rate 1000 --conductors 3
    .venv/bin/python tools/bench/heartbeat.py --db mariadb

``--backlog ROUNDS`` measures capacity instead of a paced load, for when the
senders cannot offer the rate on this machine (each cast waits for the
broker's confirm): the conductors are paused (SIGSTOP) while the senders
queue ROUNDS heartbeats per guest as fast as they can, then resumed, and the
time until the database has applied the last round gives the rate the
conductors carry and their CPU per heartbeat (target: >= 1000/s with three
conductors, >= 333/s with one).

    .venv/bin/python tools/bench/heartbeat.py --conductors 3 --backlog 2

The load is measured once the conductors have worked off the warm-up
(each guest's first heartbeat costs a key lookup), from sender processes
of several threads each (every cast waits for the broker's confirm).
"""
import argparse
import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
# The daemons and senders run this checkout's code too (they start in the
# stack's directory, where a relative PYTHONPATH would find another trove).
os.environ['PYTHONPATH'] = os.pathsep.join(
    [REPO] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p])

from tests.functional.stack import Stack  # noqa: E402

TARGET_SHARE = 0.5       # of one core, per conductor
TARGET_RATE = 333        # heartbeats/s one conductor must carry (10,000 guests / 30 s)
MARIADB_SOCKET = os.environ.get('TROVE_MARIADB_SOCKET', '/run/mysqld/mysqld.sock')
MARIADB_PORT = int(os.environ.get('TROVE_MARIADB_PORT', '3306'))

FILL = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fill_instances.py')

_APPLIED = '''
import sys, time
from trove.conf import CONF
CONF(['--config-file', sys.argv[1]], project='trove')
from sqlalchemy import func, select
from trove.db import models
from trove.db.session import reader
since, want, deadline = float(sys.argv[2]), int(sys.argv[3]), time.time() + float(sys.argv[4])
while time.time() < deadline:
    with reader() as session:
        n = session.scalar(select(func.count()).select_from(models.ConductorLastSeen).where(
            models.ConductorLastSeen.method_name == 'heartbeat',
            models.ConductorLastSeen.sent >= since))
    if n >= want:
        print(time.time())
        sys.exit(0)
    time.sleep(0.05)
import kombu
with kombu.Connection(CONF.transport_url.replace('rabbit://', 'amqp://', 1)) as conn:
    queued = conn.channel().queue_declare(queue=CONF.conductor_queue, passive=True)
sys.exit('only %d of %d applied, %d still queued' % (n, want, queued.message_count))
'''


@contextlib.contextmanager
def private_mariadb():
    """URL of a new database and account on the local MariaDB; both dropped after."""
    import pymysql
    name = 'trove_bench_%s' % uuid.uuid4().hex[:8]
    password = secrets.token_urlsafe(18)
    admin = pymysql.connect(user='root', unix_socket=MARIADB_SOCKET, autocommit=True)
    hosts = ('127.0.0.1', 'localhost')
    try:
        with admin.cursor() as cur:
            cur.execute('CREATE DATABASE `%s`' % name)
            for host in hosts:
                cur.execute('CREATE USER %s@%s IDENTIFIED BY %s', (name, host, password))
                cur.execute('GRANT ALL PRIVILEGES ON `%s`.* TO %%s@%%s' % name, (name, host))
        yield 'mysql+pymysql://%s:%s@127.0.0.1:%d/%s' % (name, password, MARIADB_PORT, name)
    finally:
        with admin.cursor() as cur:
            for host in hosts:
                cur.execute('DROP USER IF EXISTS %s@%s', (name, host))
            cur.execute('DROP DATABASE IF EXISTS `%s`' % name)
        admin.close()


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf('SC_CLK_TCK')


def wait_idle(pids, limit=120, quiet=0.05):
    """Wait until the conductors have worked off what was sent (the
    warm-up): a second in which each used under ``quiet`` of a core.

    The senders finishing is not enough: the conductors take the casts off
    the queue ahead of handling them, and a backlog of first heartbeats
    (each a key lookup) left over would be counted as the load's CPU.
    """
    deadline = time.monotonic() + limit
    before = cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = cpu_seconds(pids)
        if now - before < quiet * len(pids):
            return
        before = now
    print('warning: the conductors were still busy %ds after the warm-up' % limit)


def guest_clients(conf, keys):
    """One ConductorAPI per guest, built exactly as a guest builds its own."""
    from trove.common import context as trove_context
    from trove.conductor import rpcapi
    from trove.conf import CONF
    CONF(['--config-file', conf], project='trove')
    clients = []
    for iid, key in keys.items():
        CONF.set_override('guest_id', iid)
        CONF.set_override('instance_rpc_encr_key', key)
        clients.append((iid, rpcapi.ConductorAPI(trove_context.admin_context())))
    CONF.clear_override('guest_id')
    CONF.clear_override('instance_rpc_encr_key')
    return clients


def sender(conf, keyfile, start, end):
    """A sender process: plays the guests ``start:end`` of ``keyfile``.

    Steps, each on a line from the parent (stdin), each answered on stdout:
    warm-up (every guest once), the load (``rate``/s for ``seconds``), the
    last round (every guest once more); it then stays connected until
    stdin closes (a process that exits with casts still in its socket
    buffers, the broker reading slowly under load, loses them).
    """
    with open(keyfile) as f:
        keys = dict(list(json.load(f).items())[start:end])
    clients = guest_clients(conf, keys)
    print('ready', flush=True)
    plan = json.loads(sys.stdin.readline())
    n = len(clients)
    # Warm-up and last round: every guest once, however long that takes (a
    # round cut off by time would leave guests out and never be drained).
    threads = plan['threads']
    send(clients, plan['warm_rate'], count=n * plan['rounds'], threads=threads)
    print('warm', flush=True)
    if plan.get('backlog'):
        # Unpaced rounds into the paused conductors' queue, then (on the
        # next line) the last round, timed by the parent.
        sys.stdin.readline()
        send(clients, 1e9, count=n * (plan['backlog'] - 1), threads=threads)
        print('queued', flush=True)
        sys.stdin.readline()
        send(clients, 1e9, count=n, threads=threads)
        print(json.dumps({'done': time.time()}), flush=True)
        sys.stdin.readline()
        return
    sys.stdin.readline()
    cpu = time.process_time()
    sent = send(clients, plan['rate'], seconds=plan['seconds'], threads=threads)
    print(json.dumps({'sent': sent, 'cpu': time.process_time() - cpu}), flush=True)
    sys.stdin.readline()
    send(clients, plan['rate'], count=n, threads=threads)
    print(json.dumps({'done': time.time()}), flush=True)
    sys.stdin.readline()


def _tell(procs, line):
    for proc in procs:
        proc.stdin.write(line + '\n')
        proc.stdin.flush()


def _hear(procs):
    return [proc.stdout.readline() for proc in procs]


def start_senders(conf, keys, count, workdir):
    """``count`` sender processes, each with its share of the guests."""
    keyfile = os.path.join(workdir, 'bench-keys.json')
    with open(keyfile, 'w') as f:
        json.dump(keys, f)
    step = -(-len(keys) // count)
    procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), '--sender', conf,
                               keyfile, str(i), str(min(i + step, len(keys)))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for i in range(0, len(keys), step)]
    for proc in procs:
        if proc.stdout.readline().strip() != 'ready':
            raise RuntimeError('a sender did not start')
    return procs


def send(clients, rate, seconds=None, count=None, threads=1):
    """Casts at ``rate``/s for ``seconds`` or ``count`` casts (round-robin
    over ``clients``) from ``threads`` threads, each with its share of the
    guests and of the rate; returns how many were sent.

    oslo.messaging waits for the broker's confirm of every cast: one
    thread sends no faster than one cast per round trip to RabbitMQ, which
    on a loaded machine is a few milliseconds (guests are many processes,
    each waiting for its own confirms).
    """
    threads = max(1, min(threads, len(clients)))
    shares = [clients[i::threads] for i in range(threads)]
    counts = [None if count is None else count // threads + (i < count % threads)
              for i in range(threads)]
    sent = [0] * threads
    workers = [threading.Thread(target=_send_share, args=(
        shares[i], rate / threads, seconds, counts[i], sent, i)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(sent)


def _send_share(clients, rate, seconds, count, sent, slot):
    interval, n = 1.0 / rate, len(clients)
    start = time.monotonic()
    while (time.monotonic() - start < seconds) if count is None else sent[slot] < count:
        iid, api = clients[sent[slot] % n]
        api.heartbeat(instance_id=iid, payload={'service_status': 'healthy',
                                                'replication': None})
        sent[slot] += 1
        delay = start + sent[slot] * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--guests', type=int, default=10000)
    parser.add_argument('--rate', type=float, default=333)
    parser.add_argument('--seconds', type=float, default=30)
    parser.add_argument('--conductors', type=int, default=1)
    parser.add_argument('--interval', type=float, default=30,
                        help='the guests\' heartbeat interval the lag is held to')
    parser.add_argument('--senders', type=int, default=0,
                        help='processes playing the guests (default: one per 300/s)')
    parser.add_argument('--threads', type=int, default=8,
                        help='sending threads per sender process')
    parser.add_argument('--backlog', type=int, default=0, metavar='ROUNDS',
                        help='capacity: queue ROUNDS heartbeats per guest into paused '
                             'conductors, then time the drain')
    parser.add_argument('--sender', nargs=4, help=argparse.SUPPRESS)
    parser.add_argument('--db', default=None,
                        help='infra database: a URL, or "mariadb" for a private database '
                             'on the local server (default: SQLite)')
    args = parser.parse_args()
    if args.sender:
        conf, keyfile, start, end = args.sender
        sender(conf, keyfile, int(start), int(end))
        return
    args.senders = args.senders or max(1, -(-int(args.rate) // 300))
    if args.db == 'mariadb':
        with private_mariadb() as url:
            run(args, url, 'MariaDB')
    else:
        run(args, args.db, args.db.split(':', 1)[0] if args.db else 'SQLite')


def run(args, url, db_name):
    stack = Stack(tenant='bench')
    with open(stack.conf) as f:
        text = f.read()
    # As deployed: no debug logging (the test stacks log every message).
    text = re.sub(r'(?m)^debug = true$', 'debug = false', text)
    if url:
        text = re.sub(r'(?m)^connection = sqlite:.*$', 'connection = %s' % url, text)
    with open(stack.conf, 'w') as f:
        f.write(text)
    extra = []
    try:
        stack.start()
        keys = json.loads(subprocess.run(
            [sys.executable, FILL, stack.conf, 'bench', str(args.guests), '--keys'], check=True,
            capture_output=True, text=True).stdout)
        # The conductors start on the filled database, as one restarted
        # among its guests does.
        stack.stop_daemon('conductor')
        stack.start_daemon('conductor')
        for _ in range(args.conductors - 1):
            log = open(os.path.join(stack.dir, 'log', 'conductor-extra.out'), 'ab')
            extra.append(subprocess.Popen(
                [sys.executable, '-m', 'trove.cmd.conductor', '--config-file', stack.conf],
                stdout=log, stderr=subprocess.STDOUT, cwd=stack.dir))
            log.close()
        senders = start_senders(stack.conf, keys, args.senders, stack.dir)
        pids = [stack.procs['conductor'].pid] + [p.pid for p in extra]
        # Warm-up (caches, connections), load, last round: each step
        # starts in every sender at once; each sender carries its share.
        share = args.rate / len(senders)
        # The broker hands each cast to one conductor: a warm-up round per
        # conductor, so each has most guests' keys cached (steady state).
        _tell(senders, json.dumps({'warm_rate': max(share, 500 / len(senders)),
                                   'rounds': args.conductors, 'rate': share,
                                   'threads': args.threads, 'backlog': args.backlog,
                                   'seconds': args.seconds}))
        warm0 = cpu_seconds(pids)
        print('the warm-up starts (conductor pids %s)' % ' '.join(map(str, pids)), flush=True)
        _hear(senders)
        wait_idle(pids)
        warm_cpu = cpu_seconds(pids) - warm0
        if args.backlog:
            drain(args, db_name, stack, senders, pids, len(keys))
            return
        print('warm-up applied; the load starts (conductor pids %s)'
              % ' '.join(map(str, pids)), flush=True)
        cpu0, t0 = cpu_seconds(pids), time.monotonic()
        _tell(senders, 'load')
        loads = [json.loads(line) for line in _hear(senders)]
        sent = sum(load['sent'] for load in loads)
        sender_cpu = sum(load['cpu'] for load in loads)
        load_s = time.monotonic() - t0
        since = round_start = time.time()
        _tell(senders, 'last')
        sent_all = max(json.loads(line)['done'] for line in _hear(senders))
        done = subprocess.run([sys.executable, '-c', _APPLIED, stack.conf, str(since),
                               str(len(keys)), str(max(120, args.interval * 4))],
                              capture_output=True, text=True)
        _tell(senders, 'bye')
        for proc in senders:
            proc.wait(30)
        cpu = cpu_seconds(pids) - cpu0
        total = sent + len(keys)
        wall = time.monotonic() - t0
        report(args, db_name, sent, load_s, cpu, total, wall, done, round_start, sent_all)
        print('warm-up: %.2f ms conductor CPU per heartbeat (%d rounds of first heartbeats '
              'after the conductors started)' % (1000 * warm_cpu / (len(keys) * args.conductors),
                                                  args.conductors))
        # Whether the offered rate is short because of the senders.
        print('senders: %.2f ms CPU per cast in the load (%d processes x %d threads)'
              % (1000 * sender_cpu / max(sent, 1), len(senders), args.threads))
    finally:
        for proc in extra:
            proc.terminate()
            proc.wait(20)
        stack.stop()


def drain(args, db_name, stack, senders, pids, guests):
    """The backlog run: queue into paused conductors, resume, time the drain."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        queue0 = time.monotonic()
        _tell(senders, 'backlog')
        _hear(senders)
        since = time.time()
        _tell(senders, 'last')
        _hear(senders)
        queued_s = time.monotonic() - queue0
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    cpu0, resumed = cpu_seconds(pids), time.time()
    done = subprocess.run([sys.executable, '-c', _APPLIED, stack.conf, str(since),
                           str(guests), '300'], capture_output=True, text=True)
    _tell(senders, 'bye')
    for proc in senders:
        proc.wait(30)
    total = guests * args.backlog
    if done.returncode != 0:
        print('TARGET %s: backlog NOT drained: %s' % (db_name, done.stderr.strip()))
        return
    wall = float(done.stdout) - resumed
    cpu = cpu_seconds(pids) - cpu0
    rate = total / wall
    target = 1000 if args.conductors >= 3 else TARGET_RATE * args.conductors
    print('%s, %d guests, %d conductor(s): %d heartbeats queued in %.1fs while paused, '
          'drained in %.1fs' % (db_name, guests, args.conductors, total, queued_s, wall))
    print('TARGET %s: %d conductor(s) carry %.0f heartbeats/s, %.2f ms CPU per heartbeat '
          '(%.0f%% of a core each while draining); target >= %d/s: %s'
          % (db_name, args.conductors, rate, 1000 * cpu / total,
             100 * cpu / wall / args.conductors, target, 'met' if rate >= target else 'NOT met'))


def report(args, db_name, sent, load_s, cpu, total, wall, done, round_start, sent_all):
    """Print the figures and the targets they are held to."""
    per_beat = cpu / total
    print('%s, %d guests, %d conductor(s), %.0f heartbeats/s offered for %.0fs (%d sent), '
          'then one per guest' % (db_name, args.guests, args.conductors, sent / load_s,
                                  load_s, sent))
    print('conductor CPU: %.2f ms per heartbeat; %.0f%% of one core per conductor over '
          'the run (%.0f/s on average)' % (per_beat * 1000, 100 * cpu / wall / args.conductors,
                                          total / wall))
    lag = None
    if done.returncode != 0:
        print('lag: NOT drained: %s' % done.stderr.strip())
    else:
        lag = float(done.stdout) - sent_all
        print('lag: the last round (%d heartbeats sent over %.1fs) was applied %.2fs '
              'after its last send' % (args.guests, sent_all - round_start, lag))
    lag_met = lag is not None and lag < args.interval
    # Each conductor carries rate / conductors; its share of a core is the
    # CPU per heartbeat times that rate (the /proc figure, robust to the
    # sender and other processes on the machine).
    share = per_beat * args.rate / args.conductors
    print('TARGET %s: %d conductor(s) at %.0f/s: %.2f ms per heartbeat, %.0f%% of a core '
          'each (target <= %.0f%%: %s); lag %s (target < %.0fs: %s)'
          % (db_name, args.conductors, args.rate, per_beat * 1000, share * 100,
             TARGET_SHARE * 100, 'met' if share <= TARGET_SHARE else 'NOT met',
             'not drained' if lag is None else '%.2fs' % lag, args.interval,
             'met' if lag_met else 'NOT met'))
    if args.conductors != 1 or args.rate != TARGET_RATE:
        print('TARGET %s: one conductor at %d/s would need %.0f%% of a core (target <= %.0f%%)'
              % (db_name, TARGET_RATE, per_beat * TARGET_RATE * 100, TARGET_SHARE * 100))


if __name__ == '__main__':
    main()
