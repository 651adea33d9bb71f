"""The taskmanager's backup schedules: each slot once, the mix, skips, retention."""
import datetime
import threading

from trove.common import states
from trove.common.states import BackupState
from trove.db import api as db_api
from trove.db import backup_schedules
from trove.db import backups as db_backups
from trove.db import models
from trove.taskmanager import backup_schedules as job

from tests.unit.api.test_backups import TMRecorder, _instance

Task = states.InstanceTask


def _complete_all():
    for row in db_backups.list_running():
        db_backups.update_backup(row.id, state=BackupState.COMPLETED, size=0.1,
                                 location='/x/%s' % row.id, checksum='c' * 64)


def _schedule(inst, pattern='* * * * * */10', full_every=1, count=None, days=None,
              created=None):
    row = backup_schedules.create(inst.tenant_id, inst.id, 'nightly', pattern, full_every,
                                  count, days)
    if created is not None:
        from sqlalchemy import update
        from trove.db.session import writer
        with writer() as session:
            session.execute(update(models.BackupSchedule).where(
                models.BackupSchedule.id == row.id).values(created=created))
    return backup_schedules.get(row.id)


def test_each_slot_runs_once_even_with_two_taskmanagers(db):
    inst = _instance()
    t0 = datetime.datetime(2026, 12, 3, 10, 0, 0)
    row = _schedule(inst, created=t0)
    tms = [TMRecorder(), TMRecorder()]
    now = t0 + datetime.timedelta(seconds=11)
    threads = [threading.Thread(target=job.check, kwargs=dict(now=now, tm=tm)) for tm in tms]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    casts = [c for tm in tms for c in tm.calls if c[0] == 'create_backup']
    assert len(casts) == 1
    assert job.check(now=now, tm=tms[0]) == []     # the same slot: nothing
    row = backup_schedules.get(row.id)
    assert row.last_slot == t0 + datetime.timedelta(seconds=10) and row.runs == 1
    [backup] = db_backups.of_schedule(row.id)
    assert backup.name == 'nightly 2026-12-03T10:00:10Z'
    assert row.last_backup_id == backup.id


def test_full_every_third_run_and_incrementals_on_the_newest(db):
    inst = _instance()
    t0 = datetime.datetime(2026, 12, 3, 10, 0, 0)
    row = _schedule(inst, full_every=3, created=t0)
    tm = TMRecorder()
    for n in range(1, 5):
        job.check(now=t0 + datetime.timedelta(seconds=10 * n + 1), tm=tm)
        _complete_all()
    kinds = [b.backup_type for b in db_backups.of_schedule(row.id)]
    assert kinds == ['full', 'incremental', 'incremental', 'full']
    chain = db_backups.of_schedule(row.id)
    assert chain[1].parent_id == chain[0].id and chain[2].parent_id == chain[1].id


def test_a_busy_instance_skips_the_slot_and_says_why(db):
    inst = _instance()
    t0 = datetime.datetime(2026, 12, 3, 10, 0, 0)
    row = _schedule(inst, created=t0)
    db_api.set_task(inst.id, Task.RESIZING)
    tm = TMRecorder()
    assert job.check(now=t0 + datetime.timedelta(seconds=11), tm=tm) == []
    assert tm.calls == []
    row = backup_schedules.get(row.id)
    assert 'skipped' in row.last_error and row.last_slot is not None
    db_api.set_task(inst.id, Task.NONE)
    assert len(job.check(now=t0 + datetime.timedelta(seconds=21), tm=tm)) == 1
    assert backup_schedules.get(row.id).last_error is None


def test_retention_deletes_what_it_no_longer_keeps_but_not_a_needed_parent(db):
    inst = _instance()
    t0 = datetime.datetime(2026, 12, 3, 10, 0, 0)
    row = _schedule(inst, full_every=2, count=1, created=t0)
    job._LAST_FULL_PRUNE[0] = None
    tm = TMRecorder()
    for n in range(1, 5):    # full, incremental, full, incremental
        job.check(now=t0 + datetime.timedelta(seconds=10 * n + 1), tm=tm)
        _complete_all()
    job.check(now=t0 + datetime.timedelta(seconds=45), tm=tm)   # no slot; retention
    backups = db_backups.of_schedule(row.id)
    f1, i1, f2, i2 = backups
    deleted = {c[1]['backup_id'] for c in tm.calls if c[0] == 'delete_backup'}
    # Only the newest is kept by count; its full backup stays with it; the
    # older chain goes in one delete (the full backup and its incremental).
    assert deleted == {f1.id}
    assert [b.id for b in db_backups.pending_deletes()] == [f1.id]
    assert i2.parent_id == f2.id
