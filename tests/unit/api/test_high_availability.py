"""high_availability on create/update/show, and the failover records in the API."""
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import datastores, failovers, replicas

from tests.unit.api.conftest import MEMBER, call, create_body
from tests.unit.api.test_configurations_api import _instance, tm  # noqa: F401

T = '/v1.0/t1'


def _show(app, iid):
    return call(app, 'GET', T + '/instances/%s' % iid)[1]['instance']


def test_create_with_high_availability_and_show_it(app, recorder):
    status, body = call(app, 'POST', T + '/instances',
                        create_body(high_availability={'enabled': True}))
    assert status == 200, body
    iid = body['instance']['id']
    assert _show(app, iid)['high_availability'] == {'enabled': True, 'synchronous': False,
                                                    'writer_address': None}
    assert replicas.highly_available_primaries() == [iid]
    status, body = call(app, 'POST', T + '/instances', create_body())
    assert _show(app, body['instance']['id'])['high_availability']['enabled'] is False


def test_the_deployment_default_applies_without_the_field(app, recorder):
    CONF.set_override('enabled_by_default', True, group='failover')
    try:
        status, body = call(app, 'POST', T + '/instances', create_body())
        assert status == 200
        assert _show(app, body['instance']['id'])['high_availability']['enabled'] is True
        status, body = call(app, 'POST', T + '/instances',
                            create_body(high_availability={'enabled': False}))
        assert _show(app, body['instance']['id'])['high_availability']['enabled'] is False
    finally:
        CONF.clear_override('enabled_by_default', group='failover')


def test_bad_values_are_refused_and_change_nothing(app, tm):  # noqa: F811
    before = len(db_api.list_instances('t1', 100))
    for value in ({'enabled': 'yes'}, {'enabled': True, 'extra': 1},
                  {'enabled': True, 'synchronous': 'on'}):
        status, body = call(app, 'POST', T + '/instances',
                            create_body(high_availability=value))
        assert status == 400, (value, body)
    assert len(db_api.list_instances('t1', 100)) == before
    primary = _instance(tm, compute_instance_id='s1', hostname='127.0.0.9')
    status, body = call(app, 'POST', T + '/instances', {'instance': {
        'name': 'r', 'replica_of': primary, 'high_availability': {'enabled': True}}})
    assert status == 400 and 'on the primary' in body['badRequest']['message']
    assert replicas.replica_ids(primary) == []


def test_update_turns_it_on_and_off_on_a_primary_only(app, tm):  # noqa: F811
    primary = _instance(tm, compute_instance_id='s1', hostname='127.0.0.9')
    replica = _instance(tm, slave_of_id=primary)
    put = lambda iid, value: call(app, 'PUT', T + '/instances/%s' % iid,  # noqa: E731
                                  {'instance': {'high_availability': value}})
    applied = lambda: len([c for c in tm.calls  # noqa: E731
                           if c == ('apply_high_availability', {'instance_id': primary})])
    assert put(primary, {'enabled': True})[0] == 202
    assert _show(app, primary)['high_availability']['enabled'] is True
    assert 'high_availability' not in _show(app, replica)
    assert applied() == 1   # the guard goes to every member
    assert put(replica, {'enabled': True})[0] == 400
    assert put(primary, {'enabled': True})[0] == 202   # no change: nothing pushed
    assert applied() == 1
    assert put(primary, {'synchronous': True})[0] == 202
    assert _show(app, primary)['high_availability'] == {'enabled': True, 'synchronous': True,
                                                        'writer_address': None}
    assert applied() == 2
    assert put(primary, {'enabled': False})[0] == 202
    assert _show(app, primary)['high_availability'] == {
        'enabled': False, 'synchronous': True, 'writer_address': None}
    assert applied() == 3
    assert replicas.highly_available_primaries() == []


def test_synchronous_on_create_and_not_for_redis(app, recorder):
    status, body = call(app, 'POST', T + '/instances', create_body(
        high_availability={'enabled': True, 'synchronous': True}))
    assert status == 200, body
    assert _show(app, body['instance']['id'])['high_availability']['synchronous'] is True
    datastores.datastore_update('redis')
    datastores.version_update('redis', '7.0', 'redis')
    status, body = call(app, 'POST', T + '/instances', create_body(
        datastore={'type': 'redis', 'version': '7.0'}, databases=[], users=[],
        high_availability={'enabled': True, 'synchronous': True}))
    assert status == 400 and 'no synchronous' in body['badRequest']['message']


def test_failover_records_for_the_tenant_and_the_admin(app, tm, roles_header):  # noqa: F811
    primary = _instance(tm)
    other = _instance(tm)
    record = failovers.start('t1', primary, 'no heartbeat from its guest for 9 s', None)
    failovers.promoted(record, other)
    failovers.end(record, failovers.COMPLETED, 'done')
    status, body = call(app, 'GET', T + '/instances/%s/failovers' % other, headers=MEMBER)
    assert status == 200
    [shown] = body['failovers']
    assert (shown['old_primary_id'], shown['new_primary_id'], shown['state']) == (
        primary, other, 'completed')
    assert shown['seconds_to_writable'] >= 0 and 'tenant_id' not in shown
    assert call(app, 'GET', T + '/mgmt/failovers', headers=MEMBER)[0] == 403
    status, body = call(app, 'GET', T + '/mgmt/failovers')
    assert status == 200 and body['failovers'][0]['tenant_id'] == 't1'
    assert call(app, 'GET', T + '/instances/nope/failovers')[0] == 404
