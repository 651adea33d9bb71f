"""Opt-in (TROVE_TEST_QEMU=1): one instance through real Nova, Cinder,
Neutron and Glance and a real boot of the guest image.

The stretch of issue 16 that joins the two stages.  openstack_cloud.Cloud
runs the OpenStack services (Nova's compute with ``fake.FakeDriver``); the
guest image from tools/guest-image/build is uploaded to that Glance with
tools/guest-image/upload (kernel, initrd and the disk that names them) and
registered as the datastore version's image.  This project's control plane,
on the ``nova`` driver, creates the instance through the API: Nova records
the server with its Cinder volume, its Neutron port and the userdata, and
this test plays the hypervisor that FakeDriver is not: for the server Nova
holds it downloads the server's image and its kernel and ramdisk from
Glance and boots them under QEMU (TCG) with the userdata Nova returns
(``OS-EXT-SRV-ATTR:user_data``) on a NoCloud seed and a data disk in the
volume's place.  cloud-init writes the guest's files, formats and mounts the
disk and starts the agent, which takes ``prepare`` over the real broker
(through QEMU's guestfwd) until the API says HEALTHY; the created database
and user are used over SQL.  When Nova no longer has the server after the
delete, the "hypervisor" powers the guest off, as a compute host would.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

from tests.functional import openstack_cloud, openstack_conf, qemu_guest
from tests.functional.helpers import poll_until
from tests.functional.stack import REPO, Stack, TRANSPORT, engine_version, free_port

pytestmark = pytest.mark.skipif(os.environ.get('TROVE_TEST_QEMU') != '1',
                                reason='opt-in: TROVE_TEST_QEMU=1 boots a QEMU guest')

UPLOAD = os.path.join(REPO, 'tools', 'guest-image', 'upload')


def _openstack_env(cloud):
    # The openstack CLI of the venv running the tests.
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get('PATH', '')])
    return dict(os.environ, PATH=path, OS_AUTH_URL=cloud.keystone_url, OS_USERNAME='admin',
                OS_PASSWORD=openstack_cloud.ADMIN_PASSWORD, OS_PROJECT_NAME='admin',
                OS_USER_DOMAIN_ID='default', OS_PROJECT_DOMAIN_ID='default',
                OS_IDENTITY_API_VERSION='3', OS_REGION_NAME='RegionOne')


def _upload(cloud, image):
    """The builder's output into Glance, as the README tells an operator."""
    res = subprocess.run([UPLOAD, '--output', os.path.dirname(image), '--engine', 'mariadb',
                          '--name', 'trove-guest-%s' % cloud.tag, '--', '--public'],
                         env=_openstack_env(cloud), capture_output=True, text=True,
                         timeout=900)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout.strip()


def _download(cloud, image_id, path):
    """An image's data from Glance, as a compute host fetches it."""
    req = urllib.request.Request('%s/v2/images/%s/file' % (cloud.url('glance'), image_id),
                                 headers={'X-Auth-Token': cloud.token()})
    with urllib.request.urlopen(req, timeout=300) as resp, open(path, 'wb') as out:
        shutil.copyfileobj(resp, out, 4 << 20)


class Hypervisor:
    """Boots, for a server Nova holds, the Glance image it names with the
    userdata Nova holds for it; powers it off when Nova forgets the server."""

    def __init__(self, cloud, work, sql_port, broker_port):
        self.cloud, self.work = cloud, work
        self.env = {'TROVE_QEMU_WORK': os.path.join(work, 'servers'),
                    'TROVE_QEMU_SQL_PORT': str(sql_port)}
        self.broker_port = broker_port
        os.makedirs(self.env['TROVE_QEMU_WORK'])
        self.booted = {}

    def boot(self, server_id):
        server = self.cloud.server(server_id)
        image = self.cloud.ok('glance', 'GET', '/v2/images/%s' % server['image']['id'])
        base = os.path.join(self.work, 'glance-%s' % image['id'])
        _download(self.cloud, image['id'], base + '.qcow2')
        _download(self.cloud, image['kernel_id'], base + '.vmlinuz')
        _download(self.cloud, image['ramdisk_id'], base + '.initrd')
        env = dict(self.env, TROVE_QEMU_IMAGE=base + '.qcow2')
        userdata = self.cloud.user_data(server_id)
        assert userdata, 'Nova holds no userdata for %s' % server_id
        self.booted[server_id] = qemu_guest.boot(env, server_id, userdata, self.broker_port)
        return self.booted[server_id]

    def reap(self):
        """Power off the guests whose server Nova no longer has."""
        for server_id, workdir in list(self.booted.items()):
            if self.cloud.server(server_id) is None:
                qemu_guest.stop(workdir)
                del self.booted[server_id]

    def stop(self):
        qemu_guest.stop_all(self.env['TROVE_QEMU_WORK'])


@pytest.fixture
def joined():
    from tests.functional import openstack_venvs
    qemu_guest.ensure_tools()
    image = qemu_guest.cached_image()
    work = tempfile.mkdtemp(prefix='trove-nova-qemu-')
    cloud = openstack_cloud.Cloud()
    stack = hypervisor = None
    try:
        try:
            openstack_venvs.ensure_all()
        except openstack_venvs.InstallError as exc:
            pytest.skip(str(exc))
        cloud.start()
        image_id = _upload(cloud, image)
        sql_port = free_port()
        hypervisor = Hypervisor(cloud, work, sql_port,
                                urllib.parse.urlsplit(TRANSPORT).port or 5672)
        stack = Stack(usage_timeout=900, default_opts={
            'compute_driver': 'nova', 'management_networks': cloud.network_id,
            'state_change_poll_time': '1', 'volume_time_out': '60',
            'server_delete_time_out': '60'}, sections={
            'service_credentials': {
                'auth_url': cloud.keystone_url, 'username': 'trove',
                'password': openstack_conf.SERVICE_PASSWORD, 'project_name': 'service',
                'region_name': 'RegionOne', 'interface': 'public'}})
        with open(stack.guest_config, 'w') as f:
            f.write(qemu_guest.guest_config(stack, TRANSPORT))
        stack.start()
        stack.manage('datastore_version_update', 'mariadb', engine_version(), 'mariadb',
                     image_id, '', '1')
        yield cloud, stack, hypervisor, sql_port, image_id
    finally:
        if hypervisor:
            hypervisor.stop()
        if os.environ.get('TROVE_TEST_LOGS') and hypervisor:
            shutil.copytree(hypervisor.env['TROVE_QEMU_WORK'],
                            os.path.join(os.environ['TROVE_TEST_LOGS'], 'nova-qemu-guests'),
                            ignore=shutil.ignore_patterns('*.raw', '*.qcow2', '*.img'),
                            dirs_exist_ok=True)
        if stack:
            stack.stop()
        cloud.stop()
        shutil.rmtree(work, ignore_errors=True)


def _console(hypervisor):
    logs = []
    for workdir in hypervisor.booted.values():
        path = os.path.join(workdir, 'console.log')
        if os.path.exists(path):
            with open(path, errors='replace') as f:
                logs.append(f.read()[-6000:])
    return '\n'.join(logs)


def test_instance_create_to_healthy_through_nova_and_a_real_boot(joined):
    cloud, stack, hypervisor, sql_port, image_id = joined
    code, body = stack.request('POST', '/instances', {'instance': {
        'name': 'nova-qemu', 'flavorRef': '12', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb'}, 'databases': [{'name': 'shop'}],
        'users': [{'name': 'alice', 'password': 's3cret-Pw', 'databases': [{'name': 'shop'}]}]}})
    assert code == 200, body
    instance_id = body['instance']['id']

    def server_id():
        code, body = stack.request('GET', '/mgmt/instances/%s' % instance_id)
        return body['instance'].get('server_id') if code == 200 else None
    sid = poll_until(server_id, bool, 120, 'a Nova server for the instance')
    server = poll_until(lambda: cloud.server(sid), lambda s: s and s['status'] in (
        'ACTIVE', 'ERROR'), 120, 'Nova server ACTIVE')
    assert server['status'] == 'ACTIVE', server
    assert server['image']['id'] == image_id
    volumes = server['os-extended-volumes:volumes_attached']
    assert len(volumes) == 1 and cloud.volume(volumes[0]['id'])['status'] == 'in-use'
    started = time.time()
    hypervisor.boot(sid)

    body = stack.wait_instance(instance_id, lambda c, b: c == 200 and (
        b['instance']['status'] == 'ERROR' or b['instance']['operating_status'] == 'HEALTHY'),
        timeout=600)
    print('boot to HEALTHY %.0f s' % (time.time() - started))
    assert body['instance']['status'] == 'ACTIVE', (body, _console(hypervisor))

    qemu_guest.check_database(sql_port)

    workdir = hypervisor.booted[sid]
    with open(os.path.join(workdir, 'qemu.pid')) as f:
        pid = int(f.read())
    code, _ = stack.request('DELETE', '/instances/%s' % instance_id)
    assert code == 202
    poll_until(lambda: cloud.server(sid), lambda s: s is None, 120, 'Nova server deleted')
    hypervisor.reap()
    stack.wait_instance(instance_id, lambda c, b: c == 404, timeout=120)
    assert cloud.volume(volumes[0]['id']) is None
    assert cloud.ports_of(sid) == []
    assert not os.path.exists('/proc/%d' % pid), 'QEMU still runs after Nova deleted the server'
