"""The nova driver against an HTTP fake of Keystone, Nova and Cinder."""
import base64

import pytest
import yaml

from tests.unit.compute import nova_fake_cloud as fc
from trove.common import exception
from trove.compute import base
from trove.compute import nova
from trove.conf import CONF


cloud = pytest.fixture(fc.cloud)
driver = pytest.fixture(fc.driver)

def test_authenticates_with_service_credentials(cloud, driver):
    driver.list_flavors()
    auth = cloud.m.request_history[0]
    assert auth.url == fc.AUTH_URL + '/auth/tokens'
    body = auth.json()['auth']
    assert body['identity']['password']['user'] == {
        'name': 'trove', 'password': 'sekrit', 'domain': {'name': 'Default'}}
    assert body['scope'] == {'project': {'name': 'service', 'domain': {'name': 'Default'}}}
    flavors = cloud.last_request('GET', '/flavors/detail')
    assert flavors.headers['X-Auth-Token'] == fc.TOKEN
    assert flavors.headers['X-OpenStack-Nova-API-Version'] == CONF.nova_client_version


def test_password_option_is_secret():
    opt = next(o for o in CONF._groups['service_credentials']._opts.values()
               if o['opt'].name == 'password')
    assert opt['opt'].secret


def test_flavors_are_proxied(cloud, driver):
    flavors = driver.list_flavors()
    assert [f.to_dict() for f in flavors] == [
        {'id': '1', 'name': 'm1.tiny', 'ram': 512, 'vcpus': 1, 'disk': 5, 'ephemeral': 0},
        {'id': '42', 'name': 'db.large', 'ram': 4096, 'vcpus': 2, 'disk': 40, 'ephemeral': 10}]
    assert driver.get_flavor('42').name == 'db.large'
    assert cloud.calls('GET', 'nova.test')[-1][1] == '/v2.1/flavors/42'


def test_volume_types_are_proxied_from_cinder(cloud, driver):
    types = driver.list_volume_types()
    assert [(t['name'], t['is_public'], t['description']) for t in types] == [
        ('lvmdriver-1', True, None), ('fast-ssd', False, 'NVMe')]
    assert types[0]['id'] == '5f0f1b0e-5b1c-4c55-9c4e-2f6a3f7d1a01'
    assert cloud.calls('GET', 'cinder.test')[-1][1].split('?')[0].endswith('/types')


def test_unknown_flavor_is_flavor_not_found(cloud, driver):
    with pytest.raises(exception.FlavorNotFound):
        driver.get_flavor('99')


def test_create_volume_polls_until_available(cloud, driver):
    vol = driver.create_volume('trove-abc', 2)
    assert vol.size == 2 and vol.status == 'available'
    assert vol.mount_point == '/var/lib/trove/volume'
    calls = cloud.calls(host='cinder.test')
    assert calls[0][0:2] == ('POST', '/v3/%s/volumes' % fc.PROJECT)
    assert calls[0][2]['volume']['name'] == 'trove-abc'
    assert calls[0][2]['volume']['size'] == 2
    # creating -> available: two GETs with a pause between them.
    assert [c[0] for c in calls[1:]] == ['GET', 'GET']
    assert driver.sleeps == [0]


def test_volume_in_error_fails_at_once(cloud, driver):
    cloud.volume_script = _AlwaysScript(['creating', 'error'])
    with pytest.raises(exception.ComputeError, match='status error'):
        driver.create_volume('trove-abc', 1)


def test_volume_timeout_is_compute_error(cloud, driver):
    CONF.set_override('volume_time_out', 1)
    cloud.volume_script = _AlwaysScript(['creating'])
    with pytest.raises(exception.ComputeError, match='not done within 1 seconds'):
        driver.create_volume('trove-abc', 1)
    assert len(driver.sleeps) > 1


def test_cinder_error_is_readable_compute_error(cloud, driver):
    cloud.faults['create_volume'] = (413, {'overLimit': {
        'code': 413, 'message': 'VolumeSizeExceedsAvailableQuota: Requested volume '
                                'exceeds allowed gigabytes quota.'}})
    with pytest.raises(exception.ComputeError) as err:
        driver.create_volume('trove-abc', 500)
    assert 'gigabytes quota' in str(err.value) and 'HTTP 413' in str(err.value)


def test_create_server_request(cloud, driver):
    vid = cloud.add_volume()
    files = {'/etc/trove/conf.d/guest_info.conf': '[DEFAULT]\nguest_id = g1\n'}
    server = driver.create_server(
        name='db1', flavor_id='42', image_id='img-1', volume_id=vid, files=files,
        userdata=None, metadata={'trove_instance_id': 'i-1', 'trove_project_id': 'p'})
    body = cloud.last_request('POST', '/servers').json()['server']
    assert body['imageRef'] == 'img-1' and body['flavorRef'] == '42'
    assert body['networks'] == [{'uuid': 'net-mgmt'}]
    assert body['metadata'] == {'trove_instance_id': 'i-1', 'trove_project_id': 'p'}
    assert body['tags'] == ['trove', 'trove-i-1']
    assert body['block_device_mapping_v2'] == [
        {'uuid': 'img-1', 'source_type': 'image', 'destination_type': 'local',
         'boot_index': 0, 'delete_on_termination': True},
        {'uuid': vid, 'source_type': 'volume', 'destination_type': 'volume',
         'device_name': 'vdb', 'boot_index': -1, 'delete_on_termination': False}]
    userdata = base64.b64decode(body['user_data']).decode()
    assert userdata.startswith('#cloud-config\n')
    doc = yaml.safe_load(userdata)
    written = {f['path']: f for f in doc['write_files']}
    info = written['/etc/trove/conf.d/guest_info.conf']
    assert info['encoding'] == 'b64' and info['permissions'] == '0640'
    assert base64.b64decode(info['content']).decode() == files[
        '/etc/trove/conf.d/guest_info.conf']
    # The agent's unit is the shipped one, not a copy in the userdata.
    assert '/etc/systemd/system/trove-guestagent.service' not in written
    assert doc['mounts'][0][:2] == ['/dev/vdb', '/var/lib/trove/volume']
    assert ['systemctl', 'enable', '--now', '--no-block',
            'trove-guestagent.service'] in doc['runcmd']
    assert server.status == base.ACTIVE and server.volume_id == vid


def test_create_server_waits_for_the_build_and_its_address(cloud, driver):
    # Real Nova answers the POST with a BUILD server that has no addresses
    # yet; the taskmanager records the address create_server returns.
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    polls = [c for c in cloud.calls('GET') if c[1].endswith('/servers/%s' % server.id)]
    assert server.status == base.ACTIVE and len(polls) >= 1
    assert server.addresses[0]['address'] == '10.0.0.5'


def test_create_server_returns_an_errored_build(cloud, driver):
    original = cloud._create_server

    def create(request, context):
        body = original(request, context)
        cloud.server_script[body['server']['id']] = ['BUILD', 'BUILD', 'ERROR']
        return body
    cloud._create_server = create
    cloud._register()
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    assert server.status == base.ERROR


def test_create_server_without_volume_or_networks(cloud, driver):
    CONF.set_override('management_networks', [])
    driver.create_server(name='db1', flavor_id='1', image_id='img-1', volume_id=None,
                         files={}, userdata='#!/bin/sh\necho hi\n', metadata={})
    body = cloud.last_request('POST', '/servers').json()['server']
    assert body['networks'] == 'auto'
    assert 'block_device_mapping_v2' not in body
    userdata = base64.b64decode(body['user_data']).decode()
    assert 'Content-Type: text/cloud-config' in userdata
    assert 'Content-Type: text/x-shellscript' in userdata


def test_create_server_error_is_compute_error(cloud, driver):
    cloud.faults['create_server'] = (400, {'badRequest': {
        'code': 400, 'message': 'Image img-x could not be found.'}})
    with pytest.raises(exception.ComputeError, match='Image img-x could not be found'):
        driver.create_server(name='db1', flavor_id='1', image_id='img-x', volume_id=None,
                             files={}, userdata=None, metadata={})


def test_get_server_maps_status_and_addresses(cloud, driver):
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    cloud.server_script[server.id] = ['SHUTOFF']
    got = driver.get_server(server.id)
    assert got.status == base.SHUTDOWN
    assert got.addresses == [
        {'address': '10.0.0.5', 'type': 'private', 'network': 'mgmt', 'version': 4},
        {'address': '203.0.113.9', 'type': 'public', 'network': 'mgmt', 'version': 4}]
    assert driver.server_address(got) == '10.0.0.5'
    assert got.flavor_id == 'm1.tiny'


@pytest.mark.parametrize('nova_status,expected', [
    ('BUILD', base.BUILD), ('ACTIVE', base.ACTIVE), ('SHUTOFF', base.SHUTDOWN),
    ('HARD_REBOOT', base.BUILD), ('VERIFY_RESIZE', base.BUILD), ('ERROR', base.ERROR),
    ('SUSPENDED', base.SHUTDOWN), ('UNKNOWN', base.ERROR), ('WEIRD', base.ERROR)])
def test_status_map(nova_status, expected):
    assert nova.map_status(nova_status) == expected


def test_missing_server_is_not_found(cloud, driver):
    with pytest.raises(exception.ComputeInstanceNotFound):
        driver.get_server('no-such')


def test_delete_server_waits_for_404(cloud, driver):
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    cloud.delete_polls = 3
    driver.delete_server(server.id)
    calls = [c[:2] for c in cloud.calls(host='nova.test')]
    path = '/v2.1/servers/%s' % server.id
    delete_at = calls.index(('DELETE', path))
    # Three GETs still find it, the fourth is the 404 that ends the wait.
    assert calls[delete_at + 1:] == [('GET', path)] * 4
    assert server.id not in cloud.servers  # the last GET was the 404
    driver.delete_server(server.id)  # idempotent


def test_delete_server_timeout(cloud, driver):
    CONF.set_override('server_delete_time_out', 1)
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    cloud.delete_polls = 10 ** 9
    with pytest.raises(exception.ComputeError, match='was not deleted'):
        driver.delete_server(server.id)


def test_reboot_is_hard_and_waits_for_active(cloud, driver):
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    cloud.server_script[server.id] = ['HARD_REBOOT', 'HARD_REBOOT', 'ACTIVE']
    driver.reboot_server(server.id)
    action = cloud.last_request('POST', '/action').json()
    assert action == {'reboot': {'type': 'HARD'}}
    assert cloud.servers[server.id]['status'] == 'ACTIVE'


def test_resize_confirms(cloud, driver):
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    cloud.server_script[server.id] = ['RESIZE', 'VERIFY_RESIZE', 'ACTIVE']
    driver.resize_server(server.id, '42')
    actions = [c[2] for c in cloud.calls('POST', 'nova.test') if c[1].endswith('/action')]
    assert actions == [{'resize': {'flavorRef': '42'}}, {'confirmResize': None}]


def test_resize_rolled_back_is_error(cloud, driver):
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    cloud.server_script[server.id] = ['RESIZE', 'ACTIVE']
    with pytest.raises(exception.ComputeError, match='rolled back'):
        driver.resize_server(server.id, '42')


def test_server_in_error_during_resize(cloud, driver):
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    cloud.server_script[server.id] = ['RESIZE', 'ERROR']
    with pytest.raises(exception.ComputeError, match='in ERROR'):
        driver.resize_server(server.id, '42')


def test_keystone_failure_is_compute_error(requests_mock, cloud, driver):
    requests_mock.post(fc.AUTH_URL + '/auth/tokens', status_code=401, json={
        'error': {'code': 401, 'message': 'The request you have made requires '
                                          'authentication.', 'title': 'Unauthorized'}})
    with pytest.raises(exception.ComputeError, match='identity service'):
        driver.list_flavors()


class _AlwaysScript(dict):
    """A volume_script giving every volume the same status sequence."""

    def __init__(self, statuses):
        super().__init__()
        self.statuses = statuses

    def get(self, key, default=None):
        return self.setdefault(key, list(self.statuses))

    def setdefault(self, key, default=None):
        return super().setdefault(key, list(self.statuses))


def test_writer_address_is_a_floating_ip_moved_to_the_primary_port(cloud, driver):
    assert driver.point_writer_address('set-1', 'srv-a', [3306]) is None   # not configured
    CONF.set_override('writer_floating_network', 'net-ext')
    try:
        neutron = cloud.neutron
        neutron.ports.update({'port-a': {'id': 'port-a', 'device_id': 'srv-a'},
                              'port-b': {'id': 'port-b', 'device_id': 'srv-b'}})
        address = driver.point_writer_address('set-1', 'srv-a', [3306])
        [fip] = neutron.floating_ips.values()
        assert (fip['floating_ip_address'], fip['port_id']) == (address, 'port-a')
        assert fip['floating_network_id'] == 'net-ext'
        # A failover: the same address, on the new primary's port.
        assert driver.point_writer_address('set-1', 'srv-b', [3306]) == address
        assert [f['port_id'] for f in neutron.floating_ips.values()] == ['port-b']
        # Another set gets its own.
        assert driver.point_writer_address('set-2', 'srv-a', [3306]) != address
        driver.release_writer_address('set-1')
        driver.release_writer_address('set-1')   # idempotent
        assert [f['description'] for f in neutron.floating_ips.values()] == [
            'trove-writer-set-2']
        with pytest.raises(exception.ComputeError):
            driver.point_writer_address('set-3', 'srv-without-port', [3306])
    finally:
        CONF.clear_override('writer_floating_network')
