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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=5)
    args = parser.parse_args()
    bare = [bare_once() for _ in range(args.runs)]
    stack = Stack(address_prefix='127.80', tenant='bench').start()
    try:
        api = [api_once(stack, i) for i in range(args.runs)]
    finally:
        stack.stop()
    mb, ma = statistics.median(bare), statistics.median(api)
    print('bare engine  median %.2f s  runs %s' % (mb, ['%.2f' % x for x in bare]))
    print('POST->ACTIVE median %.2f s  runs %s' % (ma, ['%.2f' % x for x in api]))
    print('control-plane overhead %.0f%% of the bare engine time' % (100 * (ma - mb) / mb))


if __name__ == '__main__':
    main()
