"""Opt-in (TROVE_TEST_QEMU=1): a real guest image boots under QEMU and serves.

The image comes from tools/guest-image/build (cached in TROVE_QEMU_CACHE,
default /var/tmp/trove-guest-cache; TROVE_QEMU_REBUILD=1 builds it anew).
A private stack's taskmanager creates a MariaDB instance through the API;
its compute driver (tests/functional/qemu_guest.py) boots the image with the
userdata nova_userdata.render makes of the injected files, cloud-init writes
them, formats and mounts the volume and starts the image's agent, which takes
the taskmanager's ``prepare`` and heartbeats the conductor until the API says
HEALTHY.  The database and user the create asked for are then used over SQL
from the host through the forwarded port.  TCG only (no KVM here): it uses
both cores for a few minutes, so it is never part of the default run.
"""
import os
import shutil
import tempfile
import time
import urllib.parse

import pytest
from kombu import Connection

from tests.functional import qemu_guest
from tests.functional.stack import REPO, Stack, TRANSPORT, free_port

pytestmark = pytest.mark.skipif(os.environ.get('TROVE_TEST_QEMU') != '1',
                                reason='opt-in: TROVE_TEST_QEMU=1 boots a QEMU guest')
@pytest.fixture
def qemu_stack(monkeypatch):
    qemu_guest.ensure_tools()
    image = qemu_guest.cached_image()
    work = tempfile.mkdtemp(prefix='trove-qemu-')
    site = os.path.join(work, 'site')
    qemu_guest.install_plugin(site)
    broker_port = urllib.parse.urlsplit(TRANSPORT).port or 5672
    sql_port = free_port()
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join(
        [REPO, site] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    for key, value in (('TROVE_QEMU_WORK', os.path.join(work, 'servers')),
                       ('TROVE_QEMU_IMAGE', image), ('TROVE_QEMU_SQL_PORT', str(sql_port)),
                       ('TROVE_QEMU_BROKER_PORT', str(broker_port))):
        monkeypatch.setenv(key, value)
    os.makedirs(os.environ['TROVE_QEMU_WORK'])
    stack = Stack(usage_timeout=900, default_opts={'compute_driver': qemu_guest.ENTRY_POINT})
    with open(stack.guest_config, 'w') as f:
        f.write(qemu_guest.guest_config(stack, TRANSPORT))
    try:
        stack.start()
        yield stack, sql_port, work
    finally:
        qemu_guest.stop_all(os.environ['TROVE_QEMU_WORK'])
        if os.environ.get('TROVE_TEST_LOGS'):
            shutil.copytree(os.environ['TROVE_QEMU_WORK'],
                            os.path.join(os.environ['TROVE_TEST_LOGS'], 'qemu-guests'),
                            ignore=shutil.ignore_patterns('*.raw', '*.qcow2', '*.img'),
                            dirs_exist_ok=True)
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)


def _consumers(queue):
    """Consumers on ``queue`` (0 when it does not exist yet)."""
    with Connection(TRANSPORT.replace('rabbit://', 'amqp://')) as conn:
        try:
            return conn.default_channel.queue_declare(queue=queue, passive=True).consumer_count
        except Exception:   # NOT_FOUND closes the channel; the queue is not there yet
            return 0


def _console(work):
    logs = []
    for root, _, names in os.walk(os.path.join(work, 'servers')):
        if 'console.log' in names:
            with open(os.path.join(root, 'console.log'), errors='replace') as f:
                logs.append(f.read()[-6000:])
    return '\n'.join(logs)


def test_guest_image_boots_prepares_and_serves(qemu_stack):
    stack, sql_port, work = qemu_stack
    code, body = stack.request('POST', '/instances', {'instance': {
        'name': 'qemu-guest', 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb'},
        'databases': [{'name': 'shop'}],
        'users': [{'name': 'alice', 'password': 's3cret-Pw', 'databases': [{'name': 'shop'}]}]}})
    assert code == 200, body
    instance_id = body['instance']['id']
    queue = 'guestagent.%s' % instance_id
    deadline = time.time() + 600
    while _consumers(queue) == 0:
        assert time.time() < deadline, 'no agent on %s; console:\n%s' % (queue, _console(work))
        time.sleep(2)
    queued = time.time()
    server_dir = os.path.join(work, 'servers', os.listdir(os.path.join(work, 'servers'))[0])
    with open(os.path.join(server_dir, 'started')) as f:
        started = float(f.read())
    # Read now: QEMU removes its pid file when it exits.
    with open(os.path.join(server_dir, 'qemu.pid')) as f:
        pid = int(f.read())
    body = stack.wait_instance(instance_id, lambda c, b: c == 200 and (
        b['instance']['status'] == 'ERROR' or b['instance']['operating_status'] == 'HEALTHY'),
        timeout=300)
    healthy = time.time()
    print('boot to queue %.0f s, prepare to healthy %.1f s' % (queued - started, healthy - queued))
    assert body['instance']['status'] == 'ACTIVE', (body, _console(work))

    qemu_guest.check_database(sql_port)

    code, _ = stack.request('DELETE', '/instances/%s' % instance_id)
    assert code == 202
    stack.wait_instance(instance_id, lambda c, b: c == 404, timeout=120)
    assert not os.path.exists('/proc/%d' % pid), 'QEMU still runs after the delete'
