"""Point-in-time recovery follows an automatic failover (flows/pitr_failover.py)."""
import pytest

from trove.db import api, backups, pitr
from trove.taskmanager.flows import pitr as pitr_flow
from trove.taskmanager.flows import pitr_failover

from tests.unit.taskmanager.test_failover import Guest, _run, ha  # noqa: F401


class TaskManager:
    casts = []

    def __init__(self, context):
        pass

    def create_backup(self, *, backup_info, instance_id):
        TaskManager.casts.append((instance_id, backup_info))


@pytest.fixture
def pitr_ha(ha, monkeypatch):  # noqa: F811
    TaskManager.casts = []
    monkeypatch.setattr(pitr_flow.guest_rpcapi, 'GuestAPI', Guest)
    monkeypatch.setattr(pitr_failover.tm_rpcapi, 'TaskManagerAPI', TaskManager)
    Guest.dead.add(ha['p'])
    Guest.positions.update({ha['r1']: {'gtid': '0-1-42'}, ha['r2']: {'gtid': '0-1-40'}})
    return ha


def _archiving(p):
    pitr.request(p, True, 'database_backups', 'local')
    pitr.mark_started(p, api.models.utcnow())
    return pitr.get(p)


def test_the_promoted_primary_archives_when_the_failed_one_did(pitr_ha):
    p, r1 = pitr_ha['p'], pitr_ha['r1']
    old = _archiving(p)
    _run(pitr_ha)
    assert api.get_instance(r1).slave_of_id is None
    new = pitr.get(r1)
    assert new.enabled and new.since is not None
    assert new.prefix.startswith('archive/%s/' % r1) and new.prefix != old.prefix
    assert [kw for iid, m, kw in Guest.calls if m == 'start_archive' and iid == r1] == [
        {'container': new.container, 'prefix': new.prefix, 'storage_driver': 'local'}]
    # Its window opens with a full backup, asked for at once.
    [(iid, info)] = TaskManager.casts
    row = backups.get_backup(info['id'])
    assert iid == r1 and row.backup_type == 'full' and row.instance_id == r1
    # The old primary's archive and window are left as they were.
    kept = pitr.get(p)
    assert (kept.enabled, kept.prefix, kept.since) == (True, old.prefix, old.since)
    assert 'Point-in-time recovery continues on %s' % r1 in api.get_fault(p).message
    # Run again (a taskmanager restart): nothing is done twice.
    assert pitr_failover.follow(None, p, r1) is True
    assert len(TaskManager.casts) == 1


def test_a_set_without_pitr_stays_without(pitr_ha):
    _run(pitr_ha)
    assert pitr.get(pitr_ha['r1']) is None
    assert not [m for _iid, m, _kw in Guest.calls if m == 'start_archive']
    assert TaskManager.casts == []
    assert 'Point-in-time' not in api.get_fault(pitr_ha['p']).message


def test_a_guest_that_cannot_archive_does_not_undo_the_failover(pitr_ha):
    p, r1 = pitr_ha['p'], pitr_ha['r1']
    _archiving(p)
    Guest.dead.add(r1)   # answers nothing, not even start_archive
    assert pitr_failover.follow(None, p, r1) is False
    assert 'Turning point-in-time recovery on failed' in api.get_fault(r1).message
    assert pitr.get(r1).enabled and pitr.get(r1).since is None   # retried later
    assert TaskManager.casts == []
