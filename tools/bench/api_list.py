"""Benchmark: API latency with 1,000 instances (SQLite or MariaDB as the infra database).

A private stack (real api, taskmanager and conductor processes) gets
``--instances`` ACTIVE/HEALTHY instance rows written straight into its
database (no engines: this measures the API, not the guests).  Then, each
``--runs`` times, the median wall time of

* ``GET /instances?limit=N`` and ``GET /instances/detail?limit=N`` (one page
  of every instance; target <= 300 ms),
* ``GET /instances/{id}`` and ``GET /flavors``,

with the number of SQL statements a page costs (counted in a child process
that renders the page through the same controller).  ``--db mariadb``
creates a private database and account on the local MariaDB server
(root over its unix socket), used over TCP, and drops both afterwards.

    .venv/bin/python tools/bench/api_list.py
    .venv/bin/python tools/bench/api_list.py --db mariadb
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.functional.infra_mariadb import InfraDatabase  # noqa: E402
from tests.functional.stack import Stack  # noqa: E402

TARGET_MS = 300

FILL = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fill_instances.py')

_COUNT = '''
import sys
from trove.conf import CONF
CONF(['--config-file', sys.argv[1]], project='trove')
from sqlalchemy import event
from trove.db import api
from trove.db.session import get_engine
from trove.api.controllers import instances
rows = api.list_instances(sys.argv[2], int(sys.argv[3]))
n = []
event.listen(get_engine(), 'before_cursor_execute', lambda *a: n.append(1))
for detail in (False, True):
    del n[:]
    instances.InstanceController().infos(rows, detail)
    print(len(n))
'''


def timed(stack, path, runs):
    times = []
    for _ in range(runs):
        req = urllib.request.Request(stack.endpoint + path,
                                     headers={'X-Auth-Token': 'opaque'})
        start = time.perf_counter()
        with urllib.request.urlopen(req, timeout=120) as resp:
            resp.read()
            assert resp.status == 200
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--db', choices=('sqlite', 'mariadb'), default='sqlite')
    parser.add_argument('--instances', type=int, default=1000)
    parser.add_argument('--runs', type=int, default=10)
    args = parser.parse_args()
    db = InfraDatabase() if args.db == 'mariadb' else None
    stack = Stack(tenant='bench', default_opts={'instances_page_size': args.instances},
                  database=db.url if db else None)
    try:
        stack.start()
        last = list(json.loads(subprocess.run(
            [sys.executable, FILL, stack.conf, stack.tenant, str(args.instances)],
            check=True, capture_output=True, text=True).stdout))[-1]
        counts = subprocess.run([sys.executable, '-c', _COUNT, stack.conf, stack.tenant,
                                 str(args.instances)], check=True, capture_output=True,
                                text=True).stdout.split()
        n = args.instances
        rows = [('GET /instances?limit=%d' % n, timed(stack, '/instances?limit=%d' % n,
                                                      args.runs)),
                ('GET /instances/detail?limit=%d' % n,
                 timed(stack, '/instances/detail?limit=%d' % n, args.runs)),
                ('GET /instances/{id}', timed(stack, '/instances/%s' % last, args.runs * 5)),
                ('GET /flavors', timed(stack, '/flavors', args.runs * 5))]
        print('infra database: %s, %d instances, median of %d runs (x5 for the small '
              'requests)' % (args.db, n, args.runs))
        for name, ms in rows:
            print('%-36s %8.1f ms' % (name, ms))
        print('SQL statements per page of %d: list %s, detail %s (constant per page)'
              % (n, counts[0], counts[1]))
        worst = max(rows[0][1], rows[1][1])
        print('page of %d: %.0f ms (target <= %d ms: %s)'
              % (n, worst, TARGET_MS, 'met' if worst <= TARGET_MS else 'NOT met'))
    finally:
        stack.stop()
        if db:
            db.drop()


if __name__ == '__main__':
    main()
