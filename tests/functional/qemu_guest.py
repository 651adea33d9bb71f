"""Boot a trove guest image under QEMU (TCG) for the opt-in QEMU stage.

``QemuDriver`` is a compute driver the stack's taskmanager loads through the
``trove.compute.drivers`` entry point of a throwaway distribution
(``install_plugin``): servers and volumes are FakeDriver's records, and
every new server also boots the guest image with a NoCloud seed holding
exactly the userdata the nova driver would send (nova_userdata.render of the
files the taskmanager injects).  The guest reaches RabbitMQ at 10.0.2.100
through a QEMU guestfwd to ``socat`` (one process per connection; a plain
forward carries one connection only) and its MariaDB is forwarded to a host
port.  QEMU daemonizes with a pid file; ``stop_all`` ends it by that PID.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

import pymysql
import pytest

from trove.compute import fake, nova_userdata
from trove.conf import CONF

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROKER_GUEST_ADDRESS = '10.0.2.100'
ENTRY_POINT = 'qemu-test'
CACHE = os.environ.get('TROVE_QEMU_CACHE', '/var/tmp/trove-guest-cache')
IMAGE = os.path.join(CACHE, 'out', 'trove-guest-mariadb.qcow2')
TOOLS = {'qemu-system-x86_64': 'qemu-system-x86', 'qemu-img': 'qemu-utils',
         'mkfs.vfat': 'dosfstools', 'mcopy': 'mtools', 'socat': 'socat'}


def ensure_tools():
    """QEMU and the seed and forwarding tools, installed with apt-get when missing."""
    missing = sorted({pkg for tool, pkg in TOOLS.items() if not shutil.which(tool)})
    if missing:
        subprocess.run(['apt-get', 'install', '-y', '--no-install-recommends', *missing],
                       env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'), check=False)
    for tool, pkg in TOOLS.items():
        if not shutil.which(tool):
            pytest.fail('%s is missing and apt-get could not install %s' % (tool, pkg))


def cached_image():
    """The cached image, built first when missing (or asked to)."""
    if os.environ.get('TROVE_QEMU_REBUILD') == '1' or not os.path.exists(IMAGE):
        start = time.time()
        subprocess.run([os.path.join(REPO, 'tools', 'guest-image', 'build'), '--cache', CACHE],
                       check=True, env=dict(os.environ, PYTHON=sys.executable))
        print('image built in %.0f s, %d MiB allocated'
              % (time.time() - start, os.stat(IMAGE).st_blocks * 512 // 2 ** 20))
    return IMAGE


def check_database(sql_port, user='alice', password='s3cret-Pw', database='shop'):
    """Use the created database as its user through the forwarded port: a
    table written and read back, on the data volume the userdata mounted
    (the agent's own engine, not the distribution's)."""
    conn = pymysql.connect(host='127.0.0.1', port=sql_port, user=user, password=password,
                           database=database, connect_timeout=20)
    try:
        with conn.cursor() as cur:
            cur.execute('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))')
            cur.execute("INSERT INTO items VALUES (1, 'apple')")
            conn.commit()
            cur.execute('SELECT name FROM items WHERE id = 1')
            assert cur.fetchone() == ('apple',)
            cur.execute('SELECT @@datadir')
            assert cur.fetchone()[0].startswith('/var/lib/trove/volume')
    finally:
        conn.close()


def guest_config(stack, broker):
    """The guest agent's config: the broker as the guest sees it (the same URL
    at the guestfwd address)."""
    parts = urllib.parse.urlsplit(broker)
    netloc = parts.netloc.rsplit('@', 1)
    creds = netloc[0] + '@' if len(netloc) == 2 else ''
    url = urllib.parse.urlunsplit(parts._replace(
        netloc='%s%s:5672' % (creds, BROKER_GUEST_ADDRESS)))
    return ('[DEFAULT]\ntransport_url = %s\ncontrol_exchange = trove-test-%s\n'
            'conductor_queue = %s\nreport_interval = 5\ndebug = true\n'
            % (url, stack.tag, stack.conductor_topic))


def install_plugin(site_dir):
    """A dist-info in ``site_dir`` that registers QemuDriver as ``qemu-test``."""
    info = os.path.join(site_dir, 'trove_qemu_test-0.dist-info')
    os.makedirs(info, exist_ok=True)
    with open(os.path.join(info, 'METADATA'), 'w') as f:
        f.write('Metadata-Version: 2.1\nName: trove-qemu-test\nVersion: 0\n')
    with open(os.path.join(info, 'entry_points.txt'), 'w') as f:
        f.write('[trove.compute.drivers]\n%s = tests.functional.qemu_guest:QemuDriver\n'
                % ENTRY_POINT)


def _seed(workdir, userdata, server_id):
    """A VFAT disk labelled CIDATA with user-data and meta-data (NoCloud)."""
    for name, text in (('user-data', userdata),
                       ('meta-data', 'instance-id: %s\nlocal-hostname: trove-qemu\n'
                        % server_id)):
        with open(os.path.join(workdir, name), 'w') as f:
            f.write(text)
    seed = os.path.join(workdir, 'seed.img')
    subprocess.run(['mkfs.vfat', '-n', 'CIDATA', '-C', seed, '2048'], check=True,
                   capture_output=True)
    subprocess.run(['mcopy', '-i', seed, os.path.join(workdir, 'user-data'),
                    os.path.join(workdir, 'meta-data'), '::'], check=True, capture_output=True)
    return seed


def qemu_command(env, workdir, seed, broker_port):
    image = env['TROVE_QEMU_IMAGE']
    base = image[:-len('.qcow2')]
    netdev = ('user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%s-:3306,'
              'guestfwd=tcp:%s:5672-cmd:socat - TCP:127.0.0.1:%d'
              % (env['TROVE_QEMU_SQL_PORT'], BROKER_GUEST_ADDRESS, broker_port))
    return ['qemu-system-x86_64', '-machine', 'pc', '-accel', 'tcg,thread=multi',
            '-smp', '2', '-m', '1536', '-display', 'none', '-daemonize',
            '-pidfile', os.path.join(workdir, 'qemu.pid'),
            '-serial', 'file:%s' % os.path.join(workdir, 'console.log'),
            '-kernel', base + '.vmlinuz', '-initrd', base + '.initrd',
            # The journal on the console: the agent's log ends up in console.log.
            '-append', 'root=/dev/vda rw console=ttyS0 systemd.journald.forward_to_console=1',
            '-drive', 'file=%s,if=virtio,format=qcow2' % os.path.join(workdir, 'root.qcow2'),
            '-drive', 'file=%s,if=virtio,format=raw' % os.path.join(workdir, 'data.raw'),
            '-drive', 'file=%s,if=virtio,format=raw,readonly=on' % seed,
            '-netdev', netdev, '-device', 'virtio-net-pci,netdev=n0']


def boot(env, server_id, userdata, broker_port):
    """Start QEMU for ``server_id``; returns its work dir."""
    workdir = os.path.join(env['TROVE_QEMU_WORK'], server_id)
    os.makedirs(workdir)
    # A copy-on-write overlay: the cached image is never written.
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b',
                    env['TROVE_QEMU_IMAGE'], os.path.join(workdir, 'root.qcow2')], check=True)
    with open(os.path.join(workdir, 'data.raw'), 'wb') as f:
        f.truncate(1024 ** 3)   # the 1 GB data volume, sparse
    seed = _seed(workdir, userdata, server_id)
    with open(os.path.join(workdir, 'started'), 'w') as f:
        f.write('%f\n' % time.time())
    subprocess.run(qemu_command(env, workdir, seed, broker_port), check=True,
                   capture_output=True, timeout=60)
    return workdir


def _pid(workdir):
    try:
        with open(os.path.join(workdir, 'qemu.pid')) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def stop(workdir, timeout=20):
    """End the QEMU of ``workdir`` by its PID (SIGTERM, then SIGKILL)."""
    pid = _pid(workdir)
    if not pid:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


def stop_all(work_root):
    for name in os.listdir(work_root) if os.path.isdir(work_root) else ():
        stop(os.path.join(work_root, name))


class QemuDriver(fake.FakeDriver):
    """FakeDriver's records, plus a real QEMU guest for every server."""

    def create_server(self, name, flavor_id, image_id, volume_id, files, userdata, metadata):
        server = super().create_server(name, flavor_id, image_id, volume_id, files,
                                       userdata, metadata)
        device = '/dev/%s' % CONF.block_device_mapping if volume_id else None
        # What NovaDriver.create_server sends as user_data.
        document = nova_userdata.combine(nova_userdata.render(files, device=device), userdata)
        boot(os.environ, server.id, document, int(os.environ['TROVE_QEMU_BROKER_PORT']))
        return server

    def delete_server(self, server_id):
        stop(os.path.join(os.environ['TROVE_QEMU_WORK'], server_id))
        return super().delete_server(server_id)
