"""The ``nova`` compute driver against a real OpenStack control plane.

openstack_cloud.Cloud runs Keystone, Placement, Glance, Nova, Cinder and
Neutron from the package registry; this project's api, taskmanager and
conductor (a tests.functional.stack.Stack with ``compute_driver = nova``)
use it through Keystone's catalog as the ``trove`` service user.  One
instance goes through create (a Cinder volume attached by Nova, the
instance's Neutron security group on its port, the guest's files in the
userdata Nova holds), resize of flavor and volume, reboot, an access update
and delete, and after each step the state is read back from Nova, Cinder
and Neutron through their own APIs.

Nova's compute runs ``fake.FakeDriver``: no VM boots and nothing reads the
userdata.  A guest stand-in (cloud_guest.py) takes the config files out of
the userdata Nova returns (``OS-EXT-SRV-ATTR:user_data``), serves the
guest's RPC topic and sends the sealed heartbeats with the agent's own
client code (trove.guestagent.heartbeat.Reporter); no database engine runs
behind it.  TROVE_TEST_OPENSTACK=0 skips the module.

Time on this 2-core machine while other work loaded it (load 15 to 70):
warm venvs about 9 minutes (start-up and seeding 266 s, the test 213 s,
teardown 64 s); cold, the six venv installs add about 9 minutes.
"""
import os
import subprocess
import sys

import pytest

from tests.functional import cloud_guest, openstack_conf
from tests.functional.helpers import gone, poll_until
from tests.functional.stack import REPO, Stack, end_process, engine_version

pytestmark = pytest.mark.skipif(os.environ.get('TROVE_TEST_OPENSTACK', '1') == '0',
                                reason='TROVE_TEST_OPENSTACK=0')

CIDR = '10.20.0.0/16'
NEW_CIDR = '192.0.2.0/24'


@pytest.fixture(scope='module')
def cloud():
    from tests.functional import openstack_cloud
    from tests.functional import openstack_venvs
    os_cloud = openstack_cloud.Cloud()
    try:
        try:
            openstack_venvs.ensure_all()
        except openstack_venvs.InstallError as exc:
            pytest.skip(str(exc))
        yield os_cloud.start()
    finally:
        os_cloud.stop()


@pytest.fixture(scope='module')
def trove(cloud):
    st = Stack(usage_timeout=180, default_opts={
        'compute_driver': 'nova', 'management_networks': cloud.network_id,
        'state_change_poll_time': '1', 'volume_time_out': '60', 'reboot_time_out': '60',
        'resize_time_out': '120', 'server_delete_time_out': '60'}, sections={
        'service_credentials': {
            'auth_url': cloud.keystone_url, 'username': 'trove',
            'password': openstack_conf.SERVICE_PASSWORD, 'project_name': 'service',
            'region_name': 'RegionOne', 'interface': 'public'}})
    try:
        st.start()
        st.manage('datastore_version_update', 'mariadb', engine_version(), 'mariadb',
                  cloud.image_id, '', '1')
        yield st
    finally:
        st.stop()


class Guest:
    """The stand-in process for one server (see the module docstring)."""

    def __init__(self, cloud, server_id, work_dir):
        self.dir = os.path.join(work_dir, 'guest-%s' % server_id)
        os.makedirs(self.dir, exist_ok=True)
        self.userdata = os.path.join(self.dir, 'userdata')
        with open(self.userdata, 'w') as f:
            f.write(cloud.user_data(server_id))
        self.proc = None
        self._start()

    def _start(self, *args):
        out = open(os.path.join(self.dir, 'guest.out'), 'ab')
        env = dict(os.environ, PYTHONPATH=REPO)
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'tests.functional.cloud_guest', self.userdata, self.dir,
             *args], stdout=out, stderr=subprocess.STDOUT, cwd=self.dir, env=env)
        out.close()

    def rebooted(self):
        """As the agent after its server's reboot: a new process, prepared before."""
        end_process(self.proc)
        self._start('prepared')

    def calls(self):
        with open(os.path.join(self.dir, 'guest.out')) as f:
            return [line.split()[-1] for line in f if line.startswith('guest call ')]

    def stop(self):
        end_process(self.proc)


def _idle(code, body):
    return code == 200 and body['instance']['status'] in ('ACTIVE', 'ERROR')


def _ready(inst):
    return inst['status'] == 'ACTIVE' and inst.get('operating_status') == 'HEALTHY'


def _mgmt(trove, instance_id):
    code, body = trove.request('GET', '/mgmt/instances/%s' % instance_id)
    assert code == 200, body
    return body['instance']


def _server_id(trove, instance_id):
    return _mgmt(trove, instance_id).get('server_id')


def _wait_healthy(trove, instance_id, timeout=180):
    body = trove.wait_instance(instance_id, _idle, timeout=timeout)
    assert _ready(body['instance']), body
    return body['instance']


def _group_rules(cloud, instance_id):
    groups = cloud.security_groups('trove_sg-%s' % instance_id)
    assert len(groups) == 1, groups
    rules = {(r['port_range_min'], r['remote_ip_prefix'])
             for r in groups[0]['security_group_rules']
             if r['direction'] == 'ingress' and r['protocol'] == 'tcp'}
    return groups[0], rules


def test_instance_life_cycle_on_real_nova_cinder_neutron(cloud, trove):
    code, body = trove.request('POST', '/instances', {'instance': {
        'name': 'cloud-db', 'flavorRef': '11', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb', 'version': engine_version()},
        'access': {'allowed_cidrs': [CIDR]}}})
    assert code == 200, body
    iid = body['instance']['id']
    guest = None
    try:
        # Create: a server booted by Nova from our Glance image ...
        server_id = poll_until(lambda: _server_id(trove, iid), lambda v: bool(v), timeout=90)
        server = poll_until(lambda: cloud.server(server_id),
                            lambda s: s and s['status'] == 'ACTIVE', timeout=90)
        assert server['image']['id'] == cloud.image_id
        assert server['flavor']['original_name'] == 'trove.small'
        assert 'trove-%s' % iid in server['tags']
        # ... with the guest's config travelling in its cloud-init userdata ...
        userdata = cloud.user_data(server_id)
        files = cloud_guest.written_files(userdata)
        guest_info = [text for path, text in files.items() if path.endswith('guest_info.conf')]
        assert guest_info and 'guest_id = %s' % iid in guest_info[0], sorted(files)
        assert '/dev/vdb' in userdata
        guest = Guest(cloud, server_id, trove.dir)
        # ... the Cinder volume attached to it ...
        inst = _wait_healthy(trove, iid)
        attached = cloud.server(server_id)['os-extended-volumes:volumes_attached']
        assert len(attached) == 1, attached
        volume_id = attached[0]['id']
        vol = cloud.volume(volume_id)
        assert vol['size'] == 1 and vol['status'] == 'in-use'
        assert vol['attachments'][0]['server_id'] == server_id
        # ... and the instance's security group on its Neutron port.
        group, rules = _group_rules(cloud, iid)
        assert rules == {(3306, CIDR)}
        ports = cloud.ports_of(server_id)
        assert len(ports) == 1 and group['id'] in ports[0]['security_groups'], ports
        assert ports[0]['network_id'] == cloud.network_id
        assert inst['ip'] == [ports[0]['fixed_ips'][0]['ip_address']] or inst.get('ip')
        assert 'prepare' in guest.calls()

        # Resize the flavor: Nova moves the server (same host) and Trove confirms.
        code, body = trove.request('POST', '/instances/%s/action' % iid,
                                   {'resize': {'flavorRef': '12'}})
        assert code == 202, body
        poll_until(lambda: trove.request('GET', '/instances/%s' % iid)[1]['instance'],
                   lambda i: _ready(i) and i['flavor']['id'] == '12',
                   timeout=180)
        server = cloud.server(server_id)
        assert server['status'] == 'ACTIVE'
        assert server['flavor']['original_name'] == 'trove.medium'
        assert {'stop_db', 'start_db_with_conf_changes'} <= set(guest.calls())

        # Resize the volume: Cinder extends it while attached.
        code, body = trove.request('POST', '/instances/%s/action' % iid,
                                   {'resize': {'volume': {'size': 2}}})
        assert code == 202, body
        poll_until(lambda: trove.request('GET', '/instances/%s' % iid)[1]['instance'],
                   lambda i: _ready(i) and i['volume']['size'] == 2,
                   timeout=120)
        vol = cloud.volume(volume_id)
        assert vol['size'] == 2 and vol['status'] == 'in-use'

        # Reboot (mgmt): a hard reboot through Nova, the guest reports again.
        code, body = trove.request('POST', '/mgmt/instances/%s/action' % iid, {'reboot': {}})
        assert code == 202, body
        poll_until(lambda: cloud.actions(server_id), lambda a: 'reboot' in a, timeout=90)
        poll_until(lambda: cloud.server(server_id)['status'], 'ACTIVE'.__eq__, timeout=90)
        guest.rebooted()
        poll_until(lambda: trove.request('GET', '/instances/%s' % iid)[1]['instance'],
               _ready, timeout=120)
        assert cloud.server(server_id)['status'] == 'ACTIVE'

        # Access update: the group's rules follow the new CIDRs, same group.
        code, body = trove.request('PUT', '/instances/%s' % iid, {'instance': {
            'access': {'allowed_cidrs': [NEW_CIDR]}}})
        assert code == 202, body
        poll_until(lambda: _group_rules(cloud, iid)[1], lambda r: r == {(3306, NEW_CIDR)},
                   timeout=60)
        assert _group_rules(cloud, iid)[0]['id'] == group['id']
        assert group['id'] in cloud.ports_of(server_id)[0]['security_groups']

        # Delete: server, volume, port and security group all gone.
        code, body = trove.request('DELETE', '/instances/%s' % iid)
        assert code == 202, body
        trove.wait_instance(iid, gone, timeout=180)
        assert cloud.server(server_id) is None
        poll_until(lambda: cloud.volume(volume_id), lambda v: v is None, timeout=60)
        assert cloud.ports_of(server_id) == []
        assert cloud.security_groups('trove_sg-%s' % iid) == []
        assert cloud.servers('trove-%s' % iid) == []
    finally:
        if guest is not None:
            guest.stop()
        trove.request('DELETE', '/instances/%s' % iid)
