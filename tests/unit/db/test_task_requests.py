"""Quota charged by tasks: exact whatever interleaves (resize, delete, failure)."""
import pytest

from trove.common import exception, quota, states
from trove.db import api
from trove.db import quotas as db_quotas
from trove.db import task_requests

Task = states.InstanceTask
RAM = {'1': 512, '2': 1024, '3': 2048}


def _usage(tenant='t1'):
    return {u['resource']: u['in_use'] for u in quota.get_usage(tenant)}


def _resize(iid, new='3'):
    db_quotas.ensure_usages('t1', quota.RESOURCES)
    return task_requests.claim(iid, Task.RESIZING, {Task.NONE}, 'resize_flavor',
                               {'new_flavor': {'id': new}},
                               charge={'ram': RAM[new] - 1024}, limits=quota.get_limits('t1'))


def _delete(iid):
    return task_requests.claim_delete(iid, lambda row: quota.instance_deltas(
        -1, RAM[row.flavor_id], row.volume_size))


def test_resize_charges_and_success_keeps_the_charge(inst):
    assert _resize(inst) is Task.NONE
    assert _usage()['ram'] == 2048
    assert task_requests.finish_if(inst, Task.RESIZING, {'flavor_id': '3'})
    assert api.get_instance(inst).flavor_id == '3' and task_requests.load(inst) is None
    _delete(inst)
    assert _usage() == {'instances': 0, 'ram': 0, 'volumes': 0, 'backups': 0}


def test_failed_resize_gives_the_charge_back_once(inst):
    _resize(inst)
    assert task_requests.finish(inst, refund=True)
    assert not task_requests.finish(inst, refund=True)
    assert _usage()['ram'] == 1024


def test_delete_during_resize_releases_everything(inst):
    _resize(inst)
    assert _delete(inst)
    assert _usage() == {'instances': 0, 'ram': 0, 'volumes': 0, 'backups': 0}
    # The resize ends afterwards: it must neither change the flavor nor refund.
    assert not task_requests.finish_if(inst, Task.RESIZING, {'flavor_id': '3'})
    assert not task_requests.finish(inst, refund=True)
    assert _usage()['ram'] == 0
    assert not _delete(inst)                     # a repeated delete releases nothing
    assert _usage()['instances'] == 0


def test_claim_over_quota_changes_nothing(inst):
    quota.set_limits('t1', {'ram': 1500})
    with pytest.raises(exception.QuotaExceeded):
        _resize(inst)
    assert api.get_task(api.get_instance(inst)) is Task.NONE
    assert task_requests.load(inst) is None and _usage()['ram'] == 1024


def test_claim_of_a_busy_instance_is_refused(inst):
    api.set_task(inst, Task.REBOOTING)
    assert _resize(inst) is None
    assert _usage()['ram'] == 1024 and task_requests.load(inst) is None
