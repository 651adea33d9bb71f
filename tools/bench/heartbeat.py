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

    .venv/bin/python tools/bench/heartbeat.py --guests 10000 --rate 333
    .venv/bin/python tools/bench/heartbeat.py --guests 10000 --rate 1000 --conductors 3
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.functional.stack import Stack  # noqa: E402

TARGET_SHARE = 0.5

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
sys.exit('only %d of %d applied' % (n, want))
'''


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf('SC_CLK_TCK')


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


def send(clients, rate, seconds):
    """Round-robin casts at ``rate``/s; returns how many were sent."""
    interval, sent, n = 1.0 / rate, 0, len(clients)
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        iid, api = clients[sent % n]
        api.heartbeat(instance_id=iid, payload={'service_status': 'healthy',
                                                'replication': None})
        sent += 1
        delay = start + sent * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    return sent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--guests', type=int, default=10000)
    parser.add_argument('--rate', type=float, default=333)
    parser.add_argument('--seconds', type=float, default=30)
    parser.add_argument('--conductors', type=int, default=1)
    parser.add_argument('--interval', type=float, default=30,
                        help='the guests\' heartbeat interval the lag is held to')
    parser.add_argument('--db', default=None, help='infra database URL (default SQLite)')
    args = parser.parse_args()
    stack = Stack(tenant='bench')
    with open(stack.conf) as f:
        text = f.read()
    # As deployed: no debug logging (the test stacks log every message).
    text = re.sub(r'(?m)^debug = true$', 'debug = false', text)
    if args.db:
        text = re.sub(r'(?m)^connection = sqlite:.*$', 'connection = %s' % args.db, text)
    with open(stack.conf, 'w') as f:
        f.write(text)
    extra = []
    try:
        stack.start()
        keys = json.loads(subprocess.run(
            [sys.executable, FILL, stack.conf, 'bench', str(args.guests), '--keys'], check=True,
            capture_output=True, text=True).stdout)
        for _ in range(args.conductors - 1):
            log = open(os.path.join(stack.dir, 'log', 'conductor-extra.out'), 'ab')
            extra.append(subprocess.Popen(
                [sys.executable, '-m', 'trove.cmd.conductor', '--config-file', stack.conf],
                stdout=log, stderr=subprocess.STDOUT, cwd=stack.dir))
            log.close()
        time.sleep(3)
        clients = guest_clients(stack.conf, keys)
        pids = [stack.procs['conductor'].pid] + [p.pid for p in extra]
        # Warm up: every guest once (caches, connections).
        send(clients, max(args.rate, 500), len(clients) / max(args.rate, 500))
        time.sleep(5)
        cpu0, t0 = cpu_seconds(pids), time.monotonic()
        sent = send(clients, args.rate, args.seconds)
        load_s = time.monotonic() - t0
        # The last round: every guest once more, timed until all are applied.
        since = time.time()
        round_start = time.time()
        send(clients, max(args.rate, 1), len(clients) / max(args.rate, 1))
        sent_all = time.time()
        done = subprocess.run([sys.executable, '-c', _APPLIED, stack.conf, str(since),
                               str(len(clients)), str(max(120, args.interval * 4))],
                              capture_output=True, text=True)
        cpu = cpu_seconds(pids) - cpu0
        total = sent + len(clients)
        wall = time.monotonic() - t0
        print('%d guests, %d conductor(s), %.0f heartbeats/s offered for %.0fs (%d sent), '
              'then one per guest' % (args.guests, args.conductors, sent / load_s, load_s,
                                      sent))
        print('conductor CPU: %.2f ms per heartbeat; %.0f%% of one core per conductor at '
              '%.0f/s' % (cpu / total * 1000, 100 * cpu / wall / args.conductors,
                          total / wall))
        if done.returncode != 0:
            print('lag: NOT drained: %s' % done.stderr.strip())
        else:
            lag = float(done.stdout) - sent_all
            print('lag: the last round (%d heartbeats sent over %.1fs) was applied %.2fs '
                  'after its last send (target < %.0fs: %s)'
                  % (len(clients), sent_all - round_start, lag, args.interval,
                     'met' if lag < args.interval else 'NOT met'))
        # The target is per conductor at 333/s: CPU per heartbeat x 333.
        share = cpu / total * 333
        print('one conductor at 333/s needs %.0f%% of a core (target <= %.0f%%: %s)'
              % (share * 100, TARGET_SHARE * 100,
                 'met' if share <= TARGET_SHARE else 'NOT met'))
    finally:
        for proc in extra:
            proc.terminate()
            proc.wait(20)
        stack.stop()


if __name__ == '__main__':
    main()
