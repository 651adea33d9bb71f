"""Benchmark: how long one API request that creates N databases or users holds
its API thread (the guest call is synchronous) on a real MariaDB instance.

Used to choose the list bounds of the request schemas (issue 8, item 7):
a request with the largest allowed list must finish in a few seconds.

    .venv/bin/python tools/bench/guest_batch.py --sizes 10 50 100 200
"""
import argparse
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from tests.functional.stack import Stack  # noqa: E402


def _instance(stack):
    code, body = stack.request('POST', '/instances', {'instance': {
        'name': 'bench-batch', 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb'}}})
    assert code == 200, body
    iid = body['instance']['id']
    stack.wait_instance(iid, lambda c, b: c == 200 and (
        b['instance']['status'] == 'ERROR' or b['instance']['operating_status'] == 'HEALTHY'))
    return iid


def _timed(stack, method, path, body):
    start = time.monotonic()
    code, answer = stack.request(method, path, body)
    elapsed = time.monotonic() - start
    assert code == 202, (code, answer)
    return elapsed


def run(sizes):
    stack = Stack().start()
    try:
        iid = _instance(stack)
        base = '/instances/%s' % iid
        for n in sizes:
            dbs = [{'name': 'db%d_%d' % (n, i)} for i in range(n)]
            t_db = _timed(stack, 'POST', base + '/databases', {'databases': dbs})
            users = [{'name': 'u%d_%d' % (n, i), 'password': 'Pw-%d-%d' % (n, i),
                      'databases': [{'name': dbs[i]['name']}]} for i in range(n)]
            t_user = _timed(stack, 'POST', base + '/users', {'users': users})
            t_grant = _timed(stack, 'PUT', base + '/users/u%d_0/databases' % n,
                             {'databases': dbs})
            print('n=%4d  databases %.2fs  users(+1 grant each) %.2fs  grant n dbs %.2fs'
                  % (n, t_db, t_user, t_grant), flush=True)
        stack.request('DELETE', base)
        stack.wait_instance(iid, lambda c, b: c == 404, timeout=120)
    finally:
        stack.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--sizes', type=int, nargs='+', default=[10, 50, 100, 200])
    run(parser.parse_args().sizes)


if __name__ == '__main__':
    main()
