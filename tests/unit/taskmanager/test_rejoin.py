"""The old primary rejoins its replica set after a failover, by itself."""
import pytest

from trove.common import states
from trove.compute import base
from trove.conf import CONF
from trove.db import api, failovers, replicas
from trove.taskmanager import failover_watch, rejoin
from trove.taskmanager.flows import high_availability
from trove.taskmanager.flows import restart as restart_flow
from tests.unit.taskmanager.test_failover import Guest, _run, ha  # noqa: F401

Task = states.InstanceTask


@pytest.fixture
def failed_over(ha, monkeypatch):  # noqa: F811
    """p failed over to r1 (the fence powered p's server off); p is silent."""
    for module in (rejoin, high_availability, restart_flow):
        monkeypatch.setattr(module.guest_rpcapi, 'GuestAPI', Guest)
    Guest.dead.add(ha['p'])
    Guest.positions.update({ha['r1']: {'gtid': '0-1-42'}, ha['r2']: {'gtid': '0-1-40'}})
    _run(ha, guest_silent=True)
    assert api.get_instance(ha['p']).slave_of_id == ha['r1']
    Guest.calls.clear()
    return ha


class Manager:
    def __init__(self, driver):
        self.driver = driver


def _server(env, name):
    return env['driver'].servers[api.get_instance(env[name]).compute_instance_id]


def _calls(instance_id, method):
    return [kw for iid, m, kw in Guest.calls if iid == instance_id and m == method]


def test_the_fenced_old_primary_is_powered_on_then_follows_the_new_one(failed_over):
    env = failed_over
    p, r1 = env['p'], env['r1']
    assert _server(env, 'p').status == base.SHUTDOWN
    assert [r.rejoin for r in failovers.list_failovers()] == [None]
    assert rejoin.check(Manager(env['driver'])) == []
    assert _server(env, 'p').status == base.ACTIVE      # powered on
    assert rejoin.check(Manager(env['driver'])) == []   # its guest is not up yet
    assert not _calls(p, 'demote_to_replica')
    Guest.dead.discard(p)
    assert rejoin.check(Manager(env['driver'])) == [p]
    demote = _calls(p, 'demote_to_replica')
    assert len(demote) == 1
    assert demote[0]['primary_host'] == api.get_instance(r1).hostname
    # The settings go to every member again: the set has one more follower.
    assert {iid for iid, m, _ in Guest.calls if m == 'set_failover_guard'} == {
        r1, env['r2'], p}
    record = failovers.list_failovers()[0]
    assert record.rejoin == failovers.REJOINED and record.rejoined is not None
    assert 'Rejoined as a replica of %s' % r1 in api.get_fault(p).message
    assert 'Failed over at' in api.get_fault(p).message
    assert rejoin.check(Manager(env['driver'])) == []   # done once
    assert len(_calls(p, 'demote_to_replica')) == 1


def test_nothing_happens_while_a_task_runs_or_when_the_set_changed(failed_over):
    env = failed_over
    p = env['p']
    Guest.dead.discard(p)
    _server(env, 'p').status = base.ACTIVE
    api.set_task(p, Task.REBOOTING)
    assert rejoin.check(Manager(env['driver'])) == []
    assert not _calls(p, 'demote_to_replica')
    api.set_task(p, Task.NONE)
    replicas.detach(p)    # an operator detached it meanwhile
    assert rejoin.check(Manager(env['driver'])) == []
    assert not _calls(p, 'demote_to_replica')
    assert failovers.list_failovers()[0].rejoin == failovers.NOT_NEEDED


def test_a_rejoin_that_keeps_failing_gives_up_with_a_fault(failed_over, monkeypatch):
    env = failed_over
    p = env['p']
    Guest.dead.discard(p)
    _server(env, 'p').status = base.ACTIVE
    monkeypatch.setattr(rejoin.replication, 'repoint', lambda ctx, new, others: list(others))
    for _attempt in range(CONF.failover.rejoin_attempts):
        assert failovers.list_failovers()[0].rejoin is None
        rejoin.check(Manager(env['driver']))
    record = failovers.list_failovers()[0]
    assert record.rejoin == 'failed'
    assert record.rejoin_attempts == CONF.failover.rejoin_attempts
    assert 'rebuild or delete it' in api.get_fault(p).message
    assert failovers.pending_rejoins() == []


def test_a_reboot_of_an_old_primary_waiting_to_rejoin_does_not_wait(failed_over):
    env = failed_over
    p = env['p']
    _server(env, 'p').status = base.ACTIVE
    api.set_task(p, Task.REBOOTING)
    assert failovers.rejoin_pending(p)
    restart_flow.reboot(None, env['driver'], p)   # would wait reboot_time_out otherwise
    assert Task.from_code(api.get_instance(p).task_id) is Task.NONE


def test_a_down_primary_without_a_live_replica_is_restarted_once(ha, monkeypatch):  # noqa: F811
    monkeypatch.setattr(failover_watch.guest_rpcapi, 'GuestAPI', Guest)
    ran = []
    monkeypatch.setattr(failover_watch.threading, 'Thread',
                        lambda target, **kw: type('T', (), {'start': lambda s: ran.append(
                            target())})())
    for r in ('r1', 'r2'):
        api.set_service_status(ha[r], states.ServiceStatus.SHUTDOWN)
        api.set_task(ha[r], Task.REBOOTING)
    api.set_service_status(ha['p'], states.ServiceStatus.SHUTDOWN)
    grace = CONF.failover.engine_down_grace
    for clock in (100.0, 100.0 + grace, 101.0 + grace, 102.0 + grace):
        assert failover_watch.failure(ha['driver'], ha['p'], clock=clock) == (None, None)
    assert len(_calls(ha['p'], 'restart')) == 1
    api.set_service_status(ha['p'], states.ServiceStatus.HEALTHY)
    failover_watch.failure(ha['driver'], ha['p'], clock=200.0)
    api.set_service_status(ha['p'], states.ServiceStatus.SHUTDOWN)
    for clock in (300.0, 300.0 + grace):
        failover_watch.failure(ha['driver'], ha['p'], clock=clock)
    assert len(_calls(ha['p'], 'restart')) == 2   # a new down spell
