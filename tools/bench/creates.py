"""Benchmark: N concurrent POST /instances, all to ACTIVE.

Targets (issue 12): every instance ACTIVE, no client error, POST p99 under
1 s, and the last ACTIVE within 1.5 times the bare time: N engines
initialised (``mariadb-install-db``) and started concurrently on the same
machine until each answers a query.

    .venv/bin/python tools/bench/creates.py --count 10
    .venv/bin/python tools/bench/creates.py --count 50
    .venv/bin/python tools/bench/creates.py --count 50 --db mariadb

The stack is configured as deployed (no debug logging, heartbeats every 10 s,
the default); its quotas and the GET rate limit are lifted because the
benchmark's tenant is one client asking for N instances and polling them,
not N clients.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.functional.infra_mariadb import InfraDatabase  # noqa: E402
from tests.functional.stack import Stack  # noqa: E402
from tools.bench import build_timeline  # noqa: E402
from tools.bench.cpu_account import CpuMeter  # noqa: E402

RATIO_TARGET = 1.5
P99_TARGET = 1.0
BUILD_TIMEOUT = 900
POLL = 0.5


# -- bare engines -----------------------------------------------------------
# Each engine has its own tmpdir: mariadbd empties its tmpdir of ``#sql*``
# files at start, so engines sharing /tmp break each other's install-db.
def _bare_one(work, index, barrier, out):
    import pymysql
    base = os.path.join(work, str(index))
    tmp = os.path.join(base, 'tmp')
    os.makedirs(tmp)
    shutil.chown(base, 'mysql', 'mysql')
    shutil.chown(tmp, 'mysql', 'mysql')
    datadir, sock = os.path.join(base, 'data'), os.path.join(base, 'mysqld.sock')
    barrier.wait()
    start = time.monotonic()
    res = subprocess.run(['mariadb-install-db', '--no-defaults', '--datadir=%s' % datadir,
                          '--tmpdir=%s' % tmp, '--user=mysql',
                          '--auth-root-authentication-method=socket', '--skip-test-db'],
                         capture_output=True, text=True)
    if res.returncode != 0:
        out[index] = ('install-db failed', res.stderr[-500:])
        return
    proc = subprocess.Popen(['mariadbd', '--no-defaults', '--user=mysql',
                             '--datadir=%s' % datadir, '--socket=%s' % sock,
                             '--tmpdir=%s' % tmp, '--skip-networking',
                             '--pid-file=%s' % os.path.join(base, 'pid')],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out[index] = proc
    while True:
        try:
            pymysql.connect(unix_socket=sock, user='root', connect_timeout=5).close()
            out[index] = (proc, time.monotonic() - start)
            return
        except pymysql.err.OperationalError:
            if proc.poll() is not None:
                out[index] = ('mariadbd exited', proc.returncode)
                return
            time.sleep(0.05)


def bare(count):
    """Seconds until the last of ``count`` concurrently made engines answers."""
    work = tempfile.mkdtemp(prefix='bench-bare-')
    os.chmod(work, 0o755)
    shutil.chown(work, 'mysql', 'mysql')
    out = {}
    barrier = threading.Barrier(count)
    threads = [threading.Thread(target=_bare_one, args=(work, i, barrier, out))
               for i in range(count)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for value in out.values():
            proc = value[0] if isinstance(value, tuple) else value
            if isinstance(proc, subprocess.Popen) and proc.poll() is None:
                proc.terminate()  # by PID: only what this benchmark started
        for value in out.values():
            proc = value[0] if isinstance(value, tuple) else value
            if isinstance(proc, subprocess.Popen):
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    failed = [v for v in out.values() if not isinstance(v[1], float)]
    if failed or len(out) != count:
        raise RuntimeError('bare engines failed: %r' % failed[:3])
    return max(v[1] for v in out.values())


# -- the stack ----------------------------------------------------------------
def call(stack, method, path, body=None, timeout=60):
    """(status, body) of one REST call; status is the exception's name on a client error."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(stack.endpoint + path, data=data, method=method,
                                 headers={'Content-Type': 'application/json',
                                          'X-Auth-Token': 'opaque'})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw) if raw else None
        except ValueError:
            return err.code, raw[:200]
    except OSError as exc:  # resets, refusals and timeouts
        return type(exc).__name__ + ': ' + str(exc), None


def _post(stack, index, barrier, results):
    barrier.wait()
    start, wall = time.monotonic(), time.time()
    code, body = call(stack, 'POST', '/instances', {'instance': {
        'name': 'bench-%d' % index, 'flavorRef': '2', 'volume': {'size': 1},
        'databases': [{'name': 'db1'}],
        'users': [{'name': 'u1', 'password': 'pw-bench-1', 'databases': [{'name': 'db1'}]}]}})
    results[index] = dict(start=start, wall=wall, latency=time.monotonic() - start, code=code,
                          id=body['instance']['id'] if code == 200 else None,
                          error=None if code == 200 else body)


def list_all(stack):
    """{id: instance} of the tenant, every page."""
    found, marker = {}, None
    while True:
        code, body = call(stack, 'GET', '/instances/detail' + (
            '?marker=%s' % marker if marker else ''))
        if code != 200:
            raise RuntimeError('list failed: %r %r' % (code, body))
        for inst in body['instances']:
            found[inst['id']] = inst
        if not body.get('links') or not body['instances']:
            return found
        marker = body['instances'][-1]['id']


def wait_built(stack, ids, first):
    """{id: (status, seconds from ``first`` when seen)} once every build ended."""
    done = {}
    deadline = time.monotonic() + BUILD_TIMEOUT
    while len(done) < len(ids) and time.monotonic() < deadline:
        now = time.monotonic()
        for iid, inst in list_all(stack).items():
            if iid in ids and iid not in done:
                if inst['status'] == 'ERROR':
                    done[iid] = ('ERROR', now - first)
                elif inst['status'] == 'ACTIVE' and inst.get('operating_status') == 'HEALTHY':
                    done[iid] = ('ACTIVE', now - first)
        # Every poll lists all N instances in detail: at 4 a second that
        # was a tenth of a core of API time taken from the builds it
        # measures.  Twice a second costs half and is still precise enough.
        time.sleep(POLL)
    return done


def delete_all(stack, ids):
    for iid in ids:
        call(stack, 'DELETE', '/instances/%s' % iid)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        left = set(ids) & set(list_all(stack))
        if not left:
            return
        time.sleep(1)
    print('instances still there after delete: %s' % sorted(left))


def _listening_prefixes():
    """The 127.X loopback /16s that something on this host listens in."""
    found = set()
    with open('/proc/net/tcp') as f:
        for line in f.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == '0A':  # LISTEN; the address is little-endian hex
                octets = bytes.fromhex(local.split(':')[0])[::-1]
                if octets[0] == 127:
                    found.add('127.%d' % octets[1])
    return found


def _free_prefix():
    """A loopback /16 nobody listens in: a process left behind by another
    stack on the same /16 takes the port of one of our engines."""
    taken = _listening_prefixes()
    free = ['127.%d' % b for b in range(100, 251) if '127.%d' % b not in taken]
    if not free:
        raise RuntimeError('every loopback /16 from 127.100 to 127.250 is in use')
    return random.choice(free)


def make_stack(database=None, agent_nice=None):
    local_opts = {} if agent_nice is None else {'agent_nice': agent_nice}
    # Each daemon in a session of its own, as systemd starts its units:
    # with autogroup scheduling a session is a CPU group, and the API does
    # not share one with the taskmanager's fifty builds (nor this client).
    stack = Stack(address_prefix=_free_prefix(), tenant='bench', usage_timeout=BUILD_TIMEOUT,
                  database=database, local_opts=local_opts, own_sessions=True,
                  default_opts={'max_instances_per_tenant': -1,
                                'max_volumes_per_tenant': -1,
                                'http_get_rate': 100000})
    with open(stack.conf) as f:
        text = f.read()
    # As deployed: no debug logging (the test stacks log every message) and
    # the default heartbeat interval (10 s; the test stacks use 2 s so their
    # waits are short).  Status changes are reported at once either way.
    text = re.sub(r'(?m)^debug = true$', 'debug = false', text)
    text = re.sub(r'(?m)^report_interval = \d+$', 'report_interval = 10', text)
    with open(stack.conf, 'w') as f:
        f.write(text)
    return stack


def role(argv):
    """The part of the deployment a process of the cgroup plays."""
    text = ' '.join(argv[:6])
    for needle, name in (('local_supervisor', 'agent supervisor'),
                         ('trove.cmd.guest', 'guest agent'), ('mariadbd', 'mariadbd'),
                         ('trove.cmd.api', 'api'), ('trove.cmd.taskmanager', 'taskmanager'),
                         ('trove.cmd.conductor', 'conductor')):
        if needle in text:
            return name
    return 'benchmark client' if 'creates.py' in text else 'other'


def _cpu_delta(meter, before, after):
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}


def api(count, meter, database=None, agent_nice=None):
    stack = make_stack(database, agent_nice)
    try:
        stack.start()
        cpu0, roles0 = meter.seconds(), meter.breakdown(role) if meter.available else {}
        results = {}
        barrier = threading.Barrier(count)
        threads = [threading.Thread(target=_post, args=(stack, i, barrier, results))
                   for i in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        first = min(r['start'] for r in results.values())
        ids = {r['id'] for r in results.values() if r['id']}
        built = wait_built(stack, ids, first)
        timeline = build_timeline.report(build_timeline.collect(stack.base_dir),
                                         min(r['wall'] for r in results.values()))
        cpu = None
        if meter.available:
            cpu = (meter.seconds() - cpu0, _cpu_delta(meter, roles0, meter.breakdown(role)))
        for iid in ids - set(built):
            built[iid] = ('BUILD', None)
        failed = [iid for iid, (status, _) in built.items() if status != 'ACTIVE']
        for iid in failed[:3]:
            print('not ACTIVE: %s %s' % (iid, call(stack, 'GET', '/instances/%s' % iid)[1]))
        stack.keep_logs()  # with TROVE_TEST_LOGS: the guests' logs before they go
        delete_all(stack, ids)
        return results, built, cpu, timeline
    finally:
        stack.stop()


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(q * len(values) + 0.5)) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count', type=int, default=10)
    parser.add_argument('--db', choices=('sqlite', 'mariadb'), default='sqlite',
                        help='infrastructure database: a SQLite file, or a private '
                             'database on the machine\'s MariaDB server')
    parser.add_argument('--agent-nice', type=int, default=None,
                        help='[local] agent_nice of the guests (default: the option\'s)')
    args = parser.parse_args()
    n = args.count
    meter = CpuMeter()
    db = InfraDatabase() if args.db == 'mariadb' else None
    try:
        cpu0 = meter.seconds()
        bare_s = bare(n)
        bare_cpu = meter.seconds() - cpu0 if meter.available else None
        print('bare: %d engines initialised and answering in %.1f s' % (n, bare_s))
        results, built, cpu, timeline = api(n, meter, db.url if db else None,
                                            args.agent_nice)
    finally:
        meter.close()
        if db:
            db.drop()
    print('infra database: %s, %d concurrent creates' % (args.db, n))
    print('timeline, seconds after the first POST:')
    print('\n'.join(timeline))
    if cpu:
        total, roles = cpu
        print('CPU: %.1f s per build (bare %.1f s per engine; ratio %.2f); by part '
              'still running at the end, s per build:' % (total / n, bare_cpu / n,
                                                           total / bare_cpu))
        for name, secs in sorted(roles.items(), key=lambda kv: -kv[1]):
            print('   %-18s %6.2f' % (name, secs / n))
        print('   %-18s %6.2f' % ('exited processes', (total - sum(roles.values())) / n))
    lat = [r['latency'] for r in results.values()]
    errors = [r for r in results.values() if r['code'] != 200]
    active = [t for status, t in built.values() if status == 'ACTIVE']
    last = max(active) if active else float('nan')
    ratio = last / bare_s
    p99 = percentile(lat, 0.99)

    def met(ok):
        return 'met' if ok else 'NOT met'

    print('POST latency: p50 %.2f s  p99 %.2f s  max %.2f s   (p99 < %.1f s: %s)' % (
        percentile(lat, 0.5), p99, max(lat), P99_TARGET, met(p99 < P99_TARGET)))
    print('client errors: %d   (none: %s)' % (len(errors), met(not errors)))
    for r in errors[:5]:
        print('   %r %r' % (r['code'], r['error']))
    print('ACTIVE: %d of %d   (all: %s)' % (len(active), n, met(len(active) == n)))
    print('last ACTIVE %.1f s after the first POST; bare %.1f s; ratio %.2f   '
          '(<= %.1f: %s)' % (last, bare_s, ratio, RATIO_TARGET,
                             met(len(active) == n and ratio <= RATIO_TARGET)))
    ok = not errors and len(active) == n and p99 < P99_TARGET and ratio <= RATIO_TARGET
    print('all targets: %s' % met(ok))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
