"""Replication flows with a scripted guest: promote, eject, detach."""
import pytest

from trove.common import states
from trove.db import api
from trove.db import datastores
from trove.db import task_requests
from trove.taskmanager.flows import replication

Task = states.InstanceTask


class Guest:
    calls = []
    positions = {}
    caught_up = True

    def __init__(self, context, instance_id):
        self.iid = instance_id

    def __getattr__(self, method):
        def call(**kwargs):
            Guest.calls.append((self.iid, method, kwargs))
            if method == 'get_replication_position':
                return Guest.positions.get(self.iid)
            if method == 'wait_for_position':
                return Guest.caught_up
        return call


@pytest.fixture
def topo(db, monkeypatch):
    Guest.calls, Guest.positions, Guest.caught_up = [], {}, True
    monkeypatch.setattr(replication.guest_rpcapi, 'GuestAPI', Guest)
    version = datastores.get_version(datastores.get_datastore('mariadb').id, '10.11')
    ids = {}
    for name, host, of in (('p', '127.0.0.2', None), ('r1', '127.0.0.3', 'p'),
                           ('r2', '127.0.0.4', 'p')):
        inst = api.create_instance(dict(name=name, tenant_id='t1', flavor_id='2',
                                        hostname=host, datastore_version_id=version.id,
                                        slave_of_id=ids.get(of)))
        api.set_task(inst.id, Task.NONE)
        ids[name] = inst.id
    return ids


def _calls(method):
    return [(iid, kw) for iid, m, kw in Guest.calls if m == method]


def test_promote_switches_over_without_loss(topo):
    p, r1, r2 = topo['p'], topo['r1'], topo['r2']
    Guest.positions[p] = {'gtid': '0-1-42'}
    api.set_task(r1, Task.PROMOTING)
    task_requests.record(r1, 'promote_to_replica_source', {})
    replication.promote(None, r1)
    methods = [(iid, m) for iid, m, _ in Guest.calls]
    assert methods.index((p, 'set_read_only')) < methods.index((r1, 'wait_for_position'))
    assert methods.index((r1, 'wait_for_position')) < methods.index((r1, 'promote_to_primary'))
    assert _calls('wait_for_position')[0][1]['position'] == {'gtid': '0-1-42'}
    demoted = {iid for iid, _ in _calls('demote_to_replica')}
    assert demoted == {p, r2}
    assert all(kw['primary_host'] == '127.0.0.3' for _, kw in _calls('demote_to_replica'))
    assert api.get_instance(r1).slave_of_id is None
    assert api.get_instance(p).slave_of_id == r1 and api.get_instance(r2).slave_of_id == r1
    assert api.get_task(api.get_instance(r1)) is Task.NONE
    assert task_requests.load(r1) is None


def test_promote_of_a_lagging_replica_changes_nothing(topo):
    p, r1 = topo['p'], topo['r1']
    Guest.caught_up = False
    api.set_task(r1, Task.PROMOTING)
    replication.promote(None, r1)
    assert not _calls('promote_to_primary')
    assert _calls('set_read_only') == [(p, {'read_only': True}), (p, {'read_only': False})]
    assert api.get_instance(r1).slave_of_id == p
    assert 'did not catch up' in api.get_fault(r1).message


def test_eject_elects_the_most_advanced_replica(topo):
    p, r1, r2 = topo['p'], topo['r1'], topo['r2']
    Guest.positions.update({r1: {'gtid': '0-1-40'}, r2: {'gtid': '0-1-41'}})
    api.set_task(p, Task.EJECTING)
    replication.eject(None, p)
    assert [iid for iid, _ in _calls('promote_to_primary')] == [r2]
    assert [iid for iid, _ in _calls('demote_to_replica')] == [r1]
    assert api.get_instance(r1).slave_of_id == r2 and api.get_instance(r2).slave_of_id is None
    assert api.get_instance(p).slave_of_id is None        # out of the set
    assert api.get_task(api.get_instance(p)) is Task.NONE


def test_detach_makes_a_standalone(topo):
    r2 = topo['r2']
    api.set_task(r2, Task.DETACHING)
    replication.detach(None, r2)
    assert _calls('detach_replica') == [(r2, {})]
    assert _calls('drop_replication_slot')[0][0] == topo['p']
    assert api.get_instance(r2).slave_of_id is None
    assert api.get_task(api.get_instance(r2)) is Task.NONE
