"""Owners of stored tasks: what a surviving taskmanager may take over, once."""
import datetime


from trove.common import quota, states
from trove.db import api, models
from trove.db import task_requests
from trove.db.session import writer

Task = states.InstanceTask


def _claim_resize(iid):
    return task_requests.claim(iid, Task.RESIZING, {Task.NONE}, 'resize_flavor',
                               {'new_flavor': {'id': '3'}})


def _age(iid, seconds):
    with writer() as session:
        session.get(models.TaskRequest, iid).created = (
            models.utcnow() - datetime.timedelta(seconds=seconds))


def test_a_task_of_a_live_owner_is_never_abandoned(inst):
    _claim_resize(inst)
    task_requests.own(inst, 'resize_flavor', 'tm-a.1')
    assert task_requests.abandoned({'tm-a.1', 'tm-b.2'}, 30) == []
    assert task_requests.abandoned({'tm-b.2'}, 30) == [
        (inst, 'resize_flavor', 'tm-a.1', Task.RESIZING.code)]


def test_an_unstarted_task_waits_for_its_cast_before_it_is_orphaned(inst):
    _claim_resize(inst)
    assert task_requests.abandoned({'tm-b.2'}, 30) == []
    _age(inst, 31)
    assert task_requests.abandoned({'tm-b.2'}, 30) == [
        (inst, 'resize_flavor', None, Task.RESIZING.code)]


def test_only_one_survivor_takes_a_task(inst):
    _claim_resize(inst)
    task_requests.own(inst, 'resize_flavor', 'tm-a.1')
    assert task_requests.take(inst, 'tm-a.1', 'tm-b.2')
    assert not task_requests.take(inst, 'tm-a.1', 'tm-c.3')
    assert task_requests.abandoned({'tm-b.2'}, 30) == []


def test_owning_another_action_changes_nothing(inst):
    _claim_resize(inst)
    task_requests.own(inst, 'resize_flavor', 'tm-a.1')
    task_requests.own(inst, 'update_access', 'tm-b.2')
    assert task_requests.abandoned({'tm-b.2'}, 30)[0][2] == 'tm-a.1'


def test_a_delete_is_stored_until_the_records_go(inst):
    _claim_resize(inst)
    assert task_requests.claim_delete(inst, lambda row: quota.instance_deltas(-1, 1024, 1))
    assert task_requests.load(inst)[0] == task_requests.DELETE
    # The resize ending late keeps the delete's request.
    assert not task_requests.finish(inst, refund=True)
    assert task_requests.load(inst)[0] == task_requests.DELETE
    api.purge_instance(inst)
    assert task_requests.load(inst) is None
