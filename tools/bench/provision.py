"""Benchmark: median time from POST /instances to ACTIVE/HEALTHY.

Compared with the bare engine on the same machine: `mariadb-install-db` into
an empty directory plus `mariadbd` start until it answers a query.  The
overhead of the control plane is (median API time - median bare time) /
median bare time.

    .venv/bin/python tools/bench/provision.py --runs 5
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.functional.helpers import ready_spare  # noqa: E402
from tests.functional.stack import Stack, free_port  # noqa: E402


def bare_once():
    """Seconds for install-db + start + first successful query, then stop."""
    import pymysql
    work = tempfile.mkdtemp(prefix='bench-bare-')
    os.chmod(work, 0o755)
    shutil.chown(work, 'mysql', 'mysql')  # mariadbd runs as the mysql user
    datadir, sock = os.path.join(work, 'data'), os.path.join(work, 'mysqld.sock')
    port = free_port()
    start = time.monotonic()
    subprocess.run(['mariadb-install-db', '--datadir=%s' % datadir, '--user=mysql',
                    '--auth-root-authentication-method=socket', '--skip-test-db'],
                   check=True, capture_output=True)
    proc = subprocess.Popen(['mariadbd', '--no-defaults', '--user=mysql',
                             '--datadir=%s' % datadir, '--socket=%s' % sock,
                             '--port=%d' % port, '--bind-address=127.0.0.1',
                             '--pid-file=%s' % os.path.join(work, 'pid')],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                pymysql.connect(unix_socket=sock, user='root').close()
                break
            except pymysql.err.OperationalError:
                if proc.poll() is not None:
                    raise RuntimeError('bare mariadbd exited')
                time.sleep(0.05)
        return time.monotonic() - start
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def api_once(stack, index):
    """Seconds from POST /instances to ACTIVE + HEALTHY; deletes the instance after."""
    start = time.monotonic()
    code, body = stack.request('POST', '/instances', {'instance': {
        'name': 'bench-%d' % index, 'flavorRef': '2', 'volume': {'size': 1},
        'databases': [{'name': 'db1'}],
        'users': [{'name': 'u1', 'password': 'pw-bench-1', 'databases': [{'name': 'db1'}]}]}})
    assert code == 200, body
    instance_id = body['instance']['id']
    while True:
        code, body = stack.request('GET', '/instances/%s' % instance_id)
        inst = body['instance']
        if inst['status'] == 'ERROR':
            raise RuntimeError('instance failed: %s' % inst.get('fault'))
        if inst['status'] == 'ACTIVE' and inst['operating_status'] == 'HEALTHY':
            elapsed = time.monotonic() - start
            break
        time.sleep(0.05)
    stack.request('DELETE', '/instances/%s' % instance_id)
    stack.wait_instance(instance_id, lambda c, b: c == 404, timeout=120)
    return elapsed


def api_runs(runs, spares):
    opts = {'spare_servers': 'mariadb:1', 'spare_flavor': '2'} if spares else None
    stack = Stack(address_prefix='127.80', tenant='bench', local_opts=opts).start()
    times = []
    try:
        for i in range(runs):
            if spares:
                ready_spare(stack)  # not timed: a pool sized for the load has one
            times.append(api_once(stack, i))
    finally:
        stack.stop()
    return times


def report(label, runs, bare_median):
    median = statistics.median(runs)
    print('%-22s median %.2f s  overhead %+4.0f%%  runs %s' % (
        label, median, 100 * (median - bare_median) / bare_median,
        ['%.2f' % x for x in runs]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--mode', choices=('both', 'cold', 'spare'), default='both')
    args = parser.parse_args()
    bare = [bare_once() for _ in range(args.runs)]
    mb = statistics.median(bare)
    print('%-22s median %.2f s                  runs %s' % (
        'bare engine', mb, ['%.2f' % x for x in bare]))
    if args.mode in ('both', 'cold'):
        report('POST->ACTIVE cold', api_runs(args.runs, spares=False), mb)
    if args.mode in ('both', 'spare'):
        report('POST->ACTIVE spare', api_runs(args.runs, spares=True), mb)


if __name__ == '__main__':
    main()
