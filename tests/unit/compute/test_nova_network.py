"""Instance access as a Neutron security group, over the HTTP fake of the cloud."""
import pytest

from tests.unit.compute import neutron_fake
from tests.unit.compute import nova_fake_cloud as fc
from trove.common import exception
from trove.conf import CONF

cloud = pytest.fixture(fc.cloud)
driver = pytest.fixture(fc.driver)

NAME = 'trove_sg-i-1'
LIST = ('GET', '/v2.0/security-groups?name=%s' % NAME)


@pytest.fixture
def server(cloud, driver):
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    cloud.server_script[server.id] = ['ACTIVE']
    return server


def _group(cloud):
    [group] = [g for g in cloud.neutron.groups.values() if g['name'] == NAME]
    return cloud.neutron.group(group['id'])


def _ingress(cloud):
    return sorted((r['protocol'], r['port_range_min'], r['port_range_max'],
                   r['remote_ip_prefix'], r['ethertype'])
                  for r in _group(cloud)['security_group_rules']
                  if r['direction'] == 'ingress')


def _calls(cloud, host, since=0):
    return [c[:2] for c in cloud.calls(host=host)][since:]


def _actions(cloud, server_id):
    return [c[2] for c in cloud.calls('POST', 'nova.test')
            if c[1] == '/v2.1/servers/%s/action' % server_id]


def test_apply_creates_group_with_a_rule_per_cidr(cloud, driver, server):
    driver.apply_access(server.id, 'i-1', [3306], ['10.0.0.0/24', '192.168.1.7/32'])
    group = _group(cloud)
    assert _ingress(cloud) == [('tcp', 3306, 3306, '10.0.0.0/24', 'IPv4'),
                               ('tcp', 3306, 3306, '192.168.1.7/32', 'IPv4')]
    # Neutron's default egress rules stay.
    assert sorted(r['ethertype'] for r in group['security_group_rules']
                  if r['direction'] == 'egress') == ['IPv4', 'IPv6']
    assert _calls(cloud, 'neutron.test') == [
        LIST, ('POST', '/v2.0/security-groups'),
        ('POST', '/v2.0/security-group-rules'), ('POST', '/v2.0/security-group-rules')]
    create = cloud.calls('POST', 'neutron.test')[0][2]
    assert create['security_group']['name'] == NAME
    # Added by id (a name may be ambiguous to Nova); the server now lists it.
    assert _actions(cloud, server.id) == [{'addSecurityGroup': {'name': group['id']}}]
    assert cloud.servers[server.id]['security_groups'] == [{'name': 'default'},
                                                           {'name': NAME}]


def test_apply_again_replaces_stale_rules_and_reuses_the_group(cloud, driver, server):
    driver.apply_access(server.id, 'i-1', [3306], ['10.0.0.0/24', '10.1.0.0/16'])
    before = {r['remote_ip_prefix']: r['id'] for r in _group(cloud)['security_group_rules']}
    neutron_seen = len(_calls(cloud, 'neutron.test'))
    nova_seen = len(_calls(cloud, 'nova.test'))
    driver.apply_access(server.id, 'i-1', [3306], ['10.1.0.0/16', '172.16.0.0/12'])
    assert _calls(cloud, 'neutron.test', neutron_seen) == [
        LIST, ('POST', '/v2.0/security-group-rules'),
        ('DELETE', '/v2.0/security-group-rules/%s' % before['10.0.0.0/24'])]
    added = cloud.calls('POST', 'neutron.test')[-1][2]['security_group_rule']
    assert added == {'security_group_id': _group(cloud)['id'], 'direction': 'ingress',
                     'ethertype': 'IPv4', 'protocol': 'tcp', 'port_range_min': 3306,
                     'port_range_max': 3306, 'remote_ip_prefix': '172.16.0.0/12'}
    assert _ingress(cloud) == [('tcp', 3306, 3306, '10.1.0.0/16', 'IPv4'),
                               ('tcp', 3306, 3306, '172.16.0.0/12', 'IPv4')]
    kept = {r['remote_ip_prefix']: r['id'] for r in _group(cloud)['security_group_rules']}
    assert kept['10.1.0.0/16'] == before['10.1.0.0/16']
    # The server already has the group: looked at, not added again.
    assert _calls(cloud, 'nova.test', nova_seen) == [
        ('GET', '/v2.1/servers/%s' % server.id)]
    assert len(cloud.neutron.groups) == 1


def test_same_access_twice_changes_nothing(cloud, driver, server):
    driver.apply_access(server.id, 'i-1', [5432], ['0.0.0.0/0'])
    seen = len(_calls(cloud, 'neutron.test'))
    driver.apply_access(server.id, 'i-1', [5432], ['0.0.0.0/0'])
    assert _calls(cloud, 'neutron.test', seen) == [LIST]
    assert len(_actions(cloud, server.id)) == 1
    assert cloud.servers[server.id]['security_groups'].count({'name': NAME}) == 1


def test_foreign_tcp_ingress_rules_go_other_rules_stay(cloud, driver, server):
    driver.apply_access(server.id, 'i-1', [6379], ['10.0.0.0/8'])
    gid = _group(cloud)['id']
    wide = cloud.neutron.add_rule(gid, protocol='tcp', port_range_min=1,
                                  port_range_max=65535, remote_ip_prefix='10.0.0.0/8')
    anyone = cloud.neutron.add_rule(gid, protocol='tcp', port_range_min=6379,
                                    port_range_max=6379)
    icmp = cloud.neutron.add_rule(gid, protocol='icmp', remote_ip_prefix='0.0.0.0/0')
    driver.apply_access(server.id, 'i-1', [6379], ['10.0.0.0/8'])
    assert wide['id'] not in cloud.neutron.rules and anyone['id'] not in cloud.neutron.rules
    assert icmp['id'] in cloud.neutron.rules
    assert _ingress(cloud) == [('icmp', None, None, '0.0.0.0/0', 'IPv4'),
                               ('tcp', 6379, 6379, '10.0.0.0/8', 'IPv4')]


def test_cidrs_are_normalised_and_ipv6_gets_its_ethertype(cloud, driver, server):
    driver.apply_access(server.id, 'i-1', [3306], ['10.0.0.7/24', '2001:db8::1/64'])
    assert _ingress(cloud) == [('tcp', 3306, 3306, '10.0.0.0/24', 'IPv4'),
                               ('tcp', 3306, 3306, '2001:db8::/64', 'IPv6')]


def test_apply_waits_until_the_server_has_left_build(cloud, driver):
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    cloud.server_script[server.id] = ['BUILD', 'BUILD', 'ACTIVE']
    driver.apply_access(server.id, 'i-1', [3306], ['0.0.0.0/0'])
    assert driver.sleeps == [0, 0]
    assert cloud.servers[server.id]['security_groups'][-1] == {'name': NAME}


def test_server_in_error_fails_apply(cloud, driver):
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    cloud.server_script[server.id] = ['BUILD', 'ERROR']
    with pytest.raises(exception.ComputeError, match='in ERROR'):
        driver.apply_access(server.id, 'i-1', [3306], ['0.0.0.0/0'])
    assert _actions(cloud, server.id) == []


def test_server_that_never_leaves_build_times_out(cloud, driver):
    CONF.set_override('usage_timeout', 1)
    server = driver.create_server(name='db1', flavor_id='1', image_id='img', volume_id=None,
                                  files={}, userdata=None, metadata={})
    cloud.server_script[server.id] = ['BUILD']  # as if rebuilding
    with pytest.raises(exception.ComputeError, match='not done within 1 seconds'):
        driver.apply_access(server.id, 'i-1', [3306], ['0.0.0.0/0'])


def test_release_deletes_the_group_after_the_server(cloud, driver, server):
    driver.apply_access(server.id, 'i-1', [3306], ['0.0.0.0/0'])
    gid = _group(cloud)['id']
    driver.delete_server(server.id)
    seen = len(_calls(cloud, 'neutron.test'))
    driver.release_access('i-1')
    assert _calls(cloud, 'neutron.test', seen) == [
        LIST, ('DELETE', '/v2.0/security-groups/%s' % gid)]
    assert cloud.neutron.groups == {} and cloud.neutron.rules == {}
    driver.release_access('i-1')  # nothing left: done, no error
    assert _calls(cloud, 'neutron.test', seen + 2) == [LIST]


def test_release_of_a_group_in_use_is_compute_error(cloud, driver, server):
    driver.apply_access(server.id, 'i-1', [3306], ['0.0.0.0/0'])
    with pytest.raises(exception.ComputeError, match=r'in use\. \(HTTP 409\)'):
        driver.release_access('i-1')
    assert len(cloud.neutron.groups) == 1


@pytest.mark.parametrize('operation', ['list_groups', 'create_group', 'create_rule'])
def test_neutron_500_is_compute_error(cloud, driver, server, operation):
    cloud.neutron.faults[operation] = neutron_fake.SERVER_ERROR
    with pytest.raises(exception.ComputeError) as err:
        driver.apply_access(server.id, 'i-1', [3306], ['0.0.0.0/0'])
    message = str(err.value)
    assert 'internal server error' in message and 'HTTP 500' in message
    assert NAME in message
    assert _actions(cloud, server.id) == []


def test_cloud_without_neutron_is_compute_error(requests_mock, cloud, driver):
    body = fc.token_body()
    body['token']['catalog'] = [c for c in body['token']['catalog']
                                if c['type'] != 'network']
    requests_mock.post(fc.AUTH_URL + '/auth/tokens', status_code=201, json=body,
                       headers={'X-Subject-Token': fc.TOKEN})
    with pytest.raises(exception.ComputeError, match='list security groups'):
        driver.release_access('i-1')
