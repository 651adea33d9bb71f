"""A driver's "agent keeps dying" becomes the instance's ERROR status and fault."""
from trove.common import states
from trove.compute import base
from trove.compute import local
from trove.db import api as db_api
from trove.taskmanager import agent_faults

Task = states.InstanceTask


class Driver:
    supervises_agents = True

    def __init__(self, faults):
        self.faults = faults
        self.asked = []

    def agent_fault(self, server_id):
        self.asked.append(server_id)
        if isinstance(self.faults.get(server_id), Exception):
            raise self.faults[server_id]
        return self.faults.get(server_id)


def _instance(server_id, task=Task.NONE, server_status='ACTIVE'):
    inst = db_api.create_instance(dict(name='db', tenant_id='t', flavor_id='1',
                                       compute_instance_id=server_id))
    db_api.set_task(inst.id, Task.NONE)
    if task is not Task.NONE:
        db_api.set_task(inst.id, task)
    db_api.update_instance(inst.id, server_status=server_status)
    return inst.id


def test_fault_is_recorded_once_and_shown_as_error(db):
    dying = _instance('srv-dying')
    fine = _instance('srv-fine')
    busy = _instance('srv-busy', task=Task.REBOOTING)
    broken = _instance('srv-broken')
    driver = Driver({'srv-dying': 'the guest agent died 6 times within 120s',
                     'srv-busy': 'old fault', 'srv-broken': OSError('unreadable')})
    assert agent_faults.surface(driver) == [dying]
    assert db_api.get_instance(dying).server_status == 'ERROR'
    fault = db_api.get_fault(dying).message
    assert 'keeps dying' in fault and 'died 6 times' in fault
    assert db_api.get_instance(fine).server_status == 'ACTIVE'
    assert db_api.get_fault(fine) is None
    # A reboot in progress is left alone: it is the repair.
    assert db_api.get_instance(busy).server_status == 'ACTIVE'
    assert 'srv-busy' not in driver.asked
    assert db_api.get_instance(broken).server_status == 'ACTIVE'
    # Already ERROR: not asked again, the fault is not rewritten.
    driver.asked.clear()
    assert agent_faults.surface(driver) == []
    assert 'srv-dying' not in driver.asked


def test_only_supervising_drivers_run_the_job():
    assert agent_faults.wanted(local.LocalDriver())
    assert not agent_faults.wanted(base.ComputeDriver)


def test_error_and_fault_are_one_write(db, count_writes):
    # Written apart, a GET between the two saw ERROR without a fault.
    dying = _instance('srv-dying')
    writes = count_writes(db_api)
    assert agent_faults.surface(Driver({'srv-dying': 'died 6 times'})) == [dying]
    assert len(writes) == 1
    assert db_api.get_instance(dying).server_status == 'ERROR'
    assert 'died 6 times' in db_api.get_fault(dying).message
