"""Automatic failover: when the watch starts one, and the flow with a scripted guest."""
import datetime

import pytest
from sqlalchemy import update

from trove.common import states
from trove.compute import base, fake
from trove.conf import CONF
from trove.db import api, datastores, failovers, models, replicas, task_requests
from trove.db.session import writer
from trove.taskmanager import failover_watch
from trove.taskmanager.flows import failover as failover_flow
from trove.taskmanager.flows import replication

Task = states.InstanceTask
Status = states.ServiceStatus


class Guest:
    calls = []
    positions = {}
    dead = set()
    answers = {}   # instance id -> what get_status returns

    def __init__(self, context, instance_id):
        self.iid = instance_id

    def __getattr__(self, method):
        def call(**kwargs):
            if self.iid in Guest.dead:
                raise RuntimeError('timed out')
            Guest.calls.append((self.iid, method, kwargs))
            if method == 'get_replication_position':
                return Guest.positions.get(self.iid)
            if method == 'get_status':
                return Guest.answers.get(self.iid, 'shutdown')
        return call


@pytest.fixture
def ha(db, monkeypatch):
    """An HA primary p with replicas r1, r2 on the fake driver, all reporting."""
    Guest.calls, Guest.positions, Guest.dead, Guest.answers = [], {}, set(), {}
    monkeypatch.setattr(replication.guest_rpcapi, 'GuestAPI', Guest)
    monkeypatch.setattr(failover_flow.guest_rpcapi, 'GuestAPI', Guest)
    failover_watch._DOWN_SINCE.clear()
    failover_watch._RESTARTED.clear()
    driver = fake.FakeDriver()
    version = datastores.get_version(datastores.get_datastore('mariadb').id, '10.11')
    ids = {}
    for name, of in (('p', None), ('r1', 'p'), ('r2', 'p')):
        server = driver.create_server(name, '2', None, None, {}, None, {})
        inst = api.create_instance(dict(name=name, tenant_id='t1', flavor_id='2',
                                        hostname=server.addresses[0]['address'],
                                        compute_instance_id=server.id,
                                        datastore_version_id=version.id,
                                        slave_of_id=ids.get(of)))
        api.set_task(inst.id, Task.NONE)
        api.set_service_status(inst.id, Status.HEALTHY)
        ids[name] = inst.id
    replicas.set_high_availability(ids['p'], True, False)
    ids['driver'] = driver
    return ids


def _silent(instance_id, seconds):
    old = models.utcnow() - datetime.timedelta(seconds=seconds)
    with writer() as session:
        session.execute(update(models.ServiceStatusRow)
                        .where(models.ServiceStatusRow.instance_id == instance_id)
                        .values(updated_at=old))


def test_a_reporting_primary_is_left_alone(ha):
    assert failover_watch.failure(ha['driver'], ha['p']) == (None, None)
    assert replicas.highly_available_primaries() == [ha['p']]


def test_silence_longer_than_the_limit_is_a_failure(ha):
    _silent(ha['p'], CONF.failover.primary_silence - 1)
    assert failover_watch.failure(ha['driver'], ha['p']) == (None, None)  # a blip
    _silent(ha['p'], CONF.failover.primary_silence + 1)
    Guest.answers[ha['p']] = 'healthy'   # busy, late, but fine: a blip
    assert failover_watch.failure(ha['driver'], ha['p']) == (None, None)
    Guest.dead.add(ha['p'])
    reason, last_seen = failover_watch.failure(ha['driver'], ha['p'])
    assert 'no heartbeat' in reason and last_seen is not None
    calls = [kw for iid, m, kw in Guest.calls if m == 'get_status']
    assert calls == [{'timeout': CONF.failover.confirm_timeout}]


def test_a_stopped_server_is_a_failure_at_once(ha):
    server_id = api.get_instance(ha['p']).compute_instance_id
    ha['driver'].servers[server_id].status = base.SHUTDOWN
    reason, _ = failover_watch.failure(ha['driver'], ha['p'])
    assert 'SHUTDOWN' in reason


def test_an_engine_down_gets_the_grace_period_first(ha):
    api.set_service_status(ha['p'], Status.CRASHED)
    grace = CONF.failover.engine_down_grace
    assert failover_watch.failure(ha['driver'], ha['p'], clock=100.0) == (None, None)
    assert failover_watch.failure(ha['driver'], ha['p'], clock=100.0 + grace / 2) == (
        None, None)
    reason, _ = failover_watch.failure(ha['driver'], ha['p'], clock=100.0 + grace)
    assert 'crashed' in reason
    # Healed in time: the count starts again.
    api.set_service_status(ha['p'], Status.HEALTHY)
    failover_watch.failure(ha['driver'], ha['p'], clock=200.0)
    api.set_service_status(ha['p'], Status.CRASHED)
    assert failover_watch.failure(ha['driver'], ha['p'], clock=201.0) == (None, None)


def test_no_failover_without_a_live_replica_or_while_busy(ha):
    _silent(ha['p'], 60)
    for r in ('r1', 'r2'):
        _silent(ha[r], 60)
    assert failover_watch.failure(ha['driver'], ha['p']) == (None, None)
    api.set_service_status(ha['r2'], Status.HEALTHY)
    assert failover_watch.failure(ha['driver'], ha['p'])[0]
    api.set_task(ha['p'], Task.REBOOTING)  # an operator's restart is no failure
    assert failover_watch.failure(ha['driver'], ha['p']) == (None, None)


def test_one_failure_starts_one_failover(ha):
    started = []

    class Manager:
        driver = ha['driver']

        def fail_over(self, context, **kwargs):
            started.append(kwargs)

    _silent(ha['p'], 60)
    assert failover_watch.check(Manager()) == [ha['p']]
    assert failover_watch.check(Manager()) == []  # claimed: EJECTING
    assert api.get_task(api.get_instance(ha['p'])) is Task.EJECTING
    assert task_requests.load(ha['p'])[0] == 'fail_over'
    assert len(started) == 1 and 'no heartbeat' in started[0]['reason']
    assert started[0]['guest_silent'] is True


def _run(ha, reason='its engine crashed', guest_silent=False):
    p = ha['p']
    task_requests.claim(p, Task.EJECTING, (Task.NONE,), 'fail_over', {'reason': reason})
    failover_flow.fail_over(None, ha['driver'], p, reason,
                            (models.utcnow() - datetime.timedelta(seconds=3)).isoformat(),
                            guest_silent=guest_silent)


def test_failover_fences_promotes_the_most_advanced_and_records(ha):
    p, r1, r2 = ha['p'], ha['r1'], ha['r2']
    Guest.dead.add(p)
    Guest.positions.update({r1: {'gtid': '0-1-40'}, r2: {'gtid': '0-1-42'}})
    _run(ha)
    server_id = api.get_instance(p).compute_instance_id
    assert ha['driver'].called('power_off_server') == [{'server_id': server_id}]
    assert [iid for iid, m, _ in Guest.calls if m == 'promote_to_primary'] == [r2]
    assert api.get_instance(r2).slave_of_id is None
    assert api.get_instance(r1).slave_of_id == r2
    assert api.get_instance(p).slave_of_id == r2  # rejoins as a replica
    assert replicas.highly_available_primaries() == [r2]
    [record] = failovers.list_failovers()
    assert (record.state, record.old_primary_id, record.new_primary_id) == (
        'completed', p, r2)
    assert record.promoted is not None and record.ended is not None
    fault = api.get_fault(p).message
    assert 'Instance %s took over' % r2 in fault and 'powered off' in fault
    assert api.get_task(api.get_instance(p)) is Task.NONE
    assert task_requests.load(p) is None


def test_a_primary_that_cannot_be_fenced_is_not_replaced(ha):
    p = ha['p']
    Guest.dead.add(p)
    ha['driver'].failures['power_off_server'] = RuntimeError('nova down')
    Guest.positions.update({ha['r1']: {'gtid': '0-1-40'}})
    _run(ha)
    assert not [m for _, m, _ in Guest.calls if m == 'promote_to_primary']
    assert api.get_instance(ha['r1']).slave_of_id == p
    [record] = failovers.list_failovers()
    assert record.state == 'failed' and 'could not be fenced' in record.detail
    assert 'could not be fenced' in api.get_fault(p).message
    assert api.get_task(api.get_instance(p)) is Task.NONE


def test_a_guest_that_answers_stops_its_engine_instead(ha):
    Guest.positions.update({ha['r1']: {'gtid': '0-1-40'}})
    _run(ha)
    assert ha['driver'].called('power_off_server') == []
    assert (ha['p'], 'stop_db', {'timeout': CONF.failover.fence_timeout}) in Guest.calls
    assert 'stopped the engine' in api.get_fault(ha['p']).message


def test_a_silent_guest_is_not_asked_to_stop(ha):
    Guest.positions.update({ha['r1']: {'gtid': '0-1-40'}})
    _run(ha, guest_silent=True)
    assert not [m for iid, m, _ in Guest.calls if m == 'stop_db']
    assert len(ha['driver'].called('power_off_server')) == 1


def test_run_again_after_the_promotion_does_not_promote_twice(ha):
    p, r1, r2 = ha['p'], ha['r1'], ha['r2']
    Guest.dead.add(p)
    Guest.positions.update({r1: {'gtid': '0-1-42'}, r2: {'gtid': '0-1-40'}})
    record_id = failovers.start('t1', p, 'silence', None)
    replication.take_over(None, p, [r1, r2],
                          promoted=lambda new: failovers.promoted(record_id, new))
    Guest.calls.clear()
    _run(ha)   # the taskmanager died here; another one goes on
    assert not [m for _, m, _ in Guest.calls if m == 'promote_to_primary']
    assert [record.state for record in failovers.list_failovers()] == ['completed']
    assert api.get_instance(p).slave_of_id == r1


def test_guard_and_synchronous_mode_go_to_every_member(ha):
    from trove.taskmanager.flows import high_availability
    replicas.set_high_availability(ha['p'], True, True)
    Guest.dead.add(ha['r2'])
    assert high_availability.apply(None, ha['p']) == [ha['r2']]
    sent = [(iid, kw) for iid, m, kw in Guest.calls if m == 'set_synchronous']
    assert sent == [(iid, {'enabled': True,
                           'fallback_timeout': CONF.failover.synchronous_timeout})
                    for iid in (ha['p'], ha['r1'])]
    guards = [(iid, kw) for iid, m, kw in Guest.calls if m == 'set_failover_guard']
    assert guards == [(iid, {'enabled': True}) for iid in (ha['p'], ha['r1'])]
    assert 'synchronous replication on failed' in api.get_fault(ha['r2']).message
    Guest.calls.clear()
    replicas.set_high_availability(ha['p'], False, False)
    high_availability.apply(None, ha['p'])
    assert [kw for _, m, kw in Guest.calls if m == 'set_failover_guard'] == [
        {'enabled': False}] * 2


def test_a_synchronous_set_left_without_a_follower_commits_asynchronously(ha):
    p, r1, r2 = ha['p'], ha['r1'], ha['r2']
    replicas.set_high_availability(p, True, True)
    Guest.dead.update({p, r2})   # r2 cannot follow the new primary
    Guest.positions.update({r1: {'gtid': '0-1-42'}})
    _run(ha)
    suspended = [(iid, kw['enabled']) for iid, m, kw in Guest.calls if m == 'set_synchronous']
    assert suspended == [(r1, False)]
    assert 'Synchronous replication is suspended' in api.get_fault(p).message
    assert replicas.high_availability(r1)['synchronous'] is True  # the set's setting stays


def test_a_synchronous_set_with_a_follower_stays_synchronous(ha):
    p, r1, r2 = ha['p'], ha['r1'], ha['r2']
    replicas.set_high_availability(p, True, True)
    Guest.dead.add(p)
    Guest.positions.update({r1: {'gtid': '0-1-42'}, r2: {'gtid': '0-1-40'}})
    _run(ha)
    assert not [m for _, m, _ in Guest.calls if m == 'set_synchronous']
    assert 'suspended' not in api.get_fault(p).message


def test_a_lone_replica_stops_waiting_before_it_is_promoted(ha):
    p, r1 = ha['p'], ha['r1']
    replicas.detach(ha['r2'])
    replicas.set_high_availability(p, True, True)
    Guest.dead.add(p)
    Guest.positions.update({r1: {'gtid': '0-1-42'}})
    _run(ha)
    methods = [m for iid, m, _ in Guest.calls if iid == r1]
    assert methods.index('set_synchronous') < methods.index('promote_to_primary')
    assert methods.count('set_synchronous') == 1


def test_the_writer_address_moves_to_the_new_primary_when_it_takes_writes(ha, monkeypatch):
    from trove.taskmanager.flows import high_availability
    p, r1, driver = ha['p'], ha['r1'], ha['driver']
    high_availability.apply(None, p, driver)
    set_id, address = replicas.writer_of(p)
    assert driver.writers[set_id] == (address, api.get_instance(p).compute_instance_id)
    Guest.dead.add(p)
    Guest.positions.update({r1: {'gtid': '0-1-42'}, ha['r2']: {'gtid': '0-1-40'}})
    moved_before_repoint = []
    real_repoint = replication.repoint

    def repoint(context, new, others):
        moved_before_repoint.append(driver.writers[set_id][1])
        return real_repoint(context, new, others)
    monkeypatch.setattr(replication, 'repoint', repoint)
    _run(ha)
    server = api.get_instance(r1).compute_instance_id
    assert driver.writers[set_id] == (address, server)   # the same address
    assert moved_before_repoint == [server]   # as soon as it took writes
    assert replicas.writer_of(r1) == (set_id, address)
    # No longer highly available: the address goes.
    replicas.set_high_availability(r1, False, False)
    high_availability.apply(None, r1, driver)
    assert set_id not in driver.writers and replicas.writer_of(r1) == (set_id, None)
