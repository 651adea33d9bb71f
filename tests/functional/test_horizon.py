"""Horizon 27 + trove-dashboard 27 in headless Chromium on the single-host deployment.

The catalog is what the set-up registers (bin/lib/keystone_catalog.py):
trove's ``database`` endpoint and its read-only ``compute`` and
``block-storage`` reads (trove/api/compute_catalog.py), which Launch
Instance needs, plus a real Swift as ``object-store`` (the Backups panels
appear only with one).  A project member logs in and, through the browser
only: launches a MariaDB instance, waits for Active, creates a database and
a user, backs it up, restores the backup into a new instance (which has the
database), creates and attaches a configuration group, deletes both
instances.  Screenshots and Horizon's log go to TROVE_TEST_ARTEFACTS when
set (else a temporary directory, removed afterwards).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from tests.functional import horizon_server
from tests.functional.keystone_server import ADMIN_PASSWORD
from tests.functional.stack import REPO
from tests.functional.test_swift_deployment import SwiftStack

USER, PASSWORD, PROJECT = 'horizon-user', 'horizon-user-pw', 'horizon-project'
STEPS = ('login', 'launch', 'active', 'database', 'user', 'backup', 'restore',
         'configuration', 'delete')


@pytest.fixture(scope='module')
def venvs():
    """(Horizon python, Playwright python); prints how long installing took."""
    started = time.monotonic()
    pythons = horizon_server.horizon_venv(), horizon_server.playwright_venv()
    print('horizon/playwright venvs ready in %.1f s' % (time.monotonic() - started))
    return pythons


@pytest.fixture(scope='module')
def stack(keystone, keystone_swift, venvs):
    project_id = keystone.create_member(USER, PASSWORD, PROJECT)
    token, _ = keystone.token(USER, PASSWORD, PROJECT)
    st = SwiftStack(keystone, keystone_swift, project_id, token)
    try:
        st.start()
        # The set-up's own registration, as bin/stack.sh runs it.
        env = dict(os.environ, OS_AUTH_URL=keystone.url,
                   OS_PASSWORD=ADMIN_PASSWORD)
        res = subprocess.run([sys.executable, os.path.join(REPO, 'bin', 'lib',
                                                          'keystone_catalog.py'),
                              '--api-url', 'http://127.0.0.1:%d' % st.port],
                             env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        yield st
    finally:
        st.stop()


@pytest.fixture(scope='module')
def artefacts():
    keep = os.environ.get('TROVE_TEST_ARTEFACTS')
    path = os.path.join(keep, 'horizon') if keep else tempfile.mkdtemp(prefix='trove-hz-art-')
    os.makedirs(path, exist_ok=True)
    yield path
    if not keep:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope='module')
def horizon(keystone, stack, artefacts):
    server = horizon_server.Horizon(keystone.url)
    try:
        yield server.start()
    finally:
        server.stop(keep=artefacts)


def _run_flow(python, horizon, artefacts):
    args = {'url': horizon.url, 'user': USER, 'password': PASSWORD, 'artefacts': artefacts,
            'backups': True, 'chromium': horizon_server.CHROMIUM}
    flow = os.path.join(REPO, 'tests', 'functional', 'horizon_flow.py')
    res = subprocess.run([python, flow, json.dumps(args)], capture_output=True, text=True,
                         timeout=1800)
    results = [json.loads(line) for line in res.stdout.splitlines() if line.startswith('{')]
    return res, results


def test_horizon_flow_in_chromium(venvs, stack, horizon, artefacts):
    started = time.monotonic()
    res, results = _run_flow(venvs[1], horizon, artefacts)
    table = '\n'.join('%-13s %-4s %6.1fs  %s' % (r['step'], 'pass' if r['ok'] else 'FAIL',
                                                 r['seconds'], ' '.join(r['detail'].split())[:120])
                      for r in results)
    with open(os.path.join(artefacts, 'steps.txt'), 'w') as f:
        f.write(table + '\n')
    print('horizon flow in %.1f s:\n%s' % (time.monotonic() - started, table))
    assert res.returncode == 0, res.stderr[-3000:]
    failed = [r for r in results if not r['ok']]
    assert not failed, '%s\n(Horizon log: %s)' % (table, horizon.read_log()[-3000:])
    assert tuple(r['step'] for r in results) == STEPS, table
    # Every step left a screenshot.
    shots = sorted(n for n in os.listdir(artefacts) if n.endswith('.png'))
    assert len(shots) == len(STEPS), shots
    # Deleting through the browser removed the instances from trove as well.
    status, body = stack.request('GET', '/instances')
    assert status == 200 and body['instances'] == [], body
