"""Instance records, the task transition function and conductor last-seen."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from trove.common import exception, states
from trove.db import api, datastores, models, session

Task = states.InstanceTask


def _instance(tenant='t1', name='db1'):
    return api.create_instance(dict(name=name, tenant_id=tenant, flavor_id='1'))


def test_migrations_match_models(db):
    with session.get_engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), models.Base.metadata)
    assert diff == []


def test_create_starts_building_with_new_status(db):
    inst = _instance()
    assert api.get_task(inst) == Task.BUILDING
    status = api.get_service_status(inst.id)
    assert status.status_id == states.ServiceStatus.NEW.code


def test_get_instance_hides_other_tenants(db):
    inst = _instance('t1')
    assert api.get_instance(inst.id, 't1').id == inst.id
    with pytest.raises(exception.InstanceNotFound):
        api.get_instance(inst.id, 't2')


def test_conditional_claim_succeeds_once(db):
    inst = _instance()
    assert api.set_task(inst.id, Task.NONE, expected=Task.BUILDING)
    assert not api.set_task(inst.id, Task.NONE, expected=Task.BUILDING)
    assert api.get_task(api.get_instance(inst.id)) == Task.NONE


def test_forbidden_transition_raises(db):
    inst = _instance()
    with pytest.raises(exception.InvalidStateTransition):
        api.set_task(inst.id, Task.REBOOTING)


@pytest.mark.parametrize('task', list(Task))
def test_delete_allowed_from_every_task(task):
    assert states.check_task_transition(task, Task.DELETING)


def test_record_sent_drops_older(db):
    assert api.record_sent('i1', 'heartbeat', 10.5)
    assert not api.record_sent('i1', 'heartbeat', 10.4)
    assert not api.record_sent('i1', 'heartbeat', 10.5)
    assert api.record_sent('i1', 'heartbeat', 11.0)


def test_purge_hides_instance_and_drops_status(db):
    inst = _instance()
    api.save_fault(inst.id, 'boom')
    api.purge_instance(inst.id)
    with pytest.raises(exception.InstanceNotFound):
        api.get_instance(inst.id)
    assert api.get_service_status(inst.id) is None
    assert api.get_fault(inst.id) is None
    assert api.list_instances('t1') == []


def test_list_pages_by_id(db):
    ids = sorted(_instance(name='n%d' % i).id for i in range(5))
    page1 = [i.id for i in api.list_instances('t1', limit=2)]
    page2 = [i.id for i in api.list_instances('t1', limit=2, marker=page1[-1])]
    assert page1 == ids[:2] and page2 == ids[2:4]


def test_fault_replaced_by_newer(db):
    inst = _instance()
    api.save_fault(inst.id, 'first')
    api.save_fault(inst.id, 'second')
    assert api.get_fault(inst.id).message == 'second'


def test_fault_with_instance_columns(db):
    inst = _instance()
    api.save_fault(inst.id, 'agent gone', server_status='ERROR')
    assert api.get_fault(inst.id).message == 'agent gone'
    assert api.get_instance(inst.id).server_status == 'ERROR'


def test_datastore_resolution(db):
    ds, ver = datastores.resolve()
    assert (ds.name, ver.name, ver.manager) == ('mariadb', '10.11', 'mariadb')
    with pytest.raises(exception.DatastoreNotFound):
        datastores.resolve('nosuch')
    with pytest.raises(exception.DatastoreVersionNotFound):
        datastores.resolve('mariadb', '1.0')
    datastores.version_update('mariadb', '10.11', 'mariadb', active=False)
    with pytest.raises(exception.DatastoreVersionInactive):
        datastores.resolve('mariadb')


def test_task_change_with_its_fault(db):
    inst = _instance()
    assert not api.set_task(inst.id, Task.BUILDING_ERROR_SERVER, expected=Task.NONE,
                            fault='not mine')
    assert api.get_fault(inst.id) is None
    assert api.set_task(inst.id, Task.BUILDING_ERROR_SERVER, expected=Task.BUILDING,
                        fault='no server', fault_details='console')
    fault = api.get_fault(inst.id)
    assert (fault.message, fault.details) == ('no server', 'console')
    assert api.get_task(api.get_instance(inst.id)) is Task.BUILDING_ERROR_SERVER
