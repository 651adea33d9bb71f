"""Backup state transitions: conductor reports, the watchdog, deletes."""
import datetime

from sqlalchemy import update

from trove.backup.stores import local
from trove.common.states import BackupState
from trove.conductor import manager as conductor_manager
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import models
from trove.db.session import writer
from trove.taskmanager.flows import backup as backup_flow


def _instance():
    return db_api.create_instance(dict(name='a', tenant_id='t', flavor_id='1'))


def _backup(inst, parent=None, **values):
    row = db_backups.create_backup(dict(name='b', tenant_id='t', instance_id=inst.id,
                                        parent_id=parent, storage_driver='local'))
    if values:
        db_backups.update_backup(row.id, **values)
    return db_backups.get_backup(row.id)


def _report(inst, row, sent, **fields):
    conductor_manager.Manager().update_backup(None, inst.id, row.id, sent=sent, **fields)
    return db_backups.get_backup(row.id)


def test_new_building_completed(db):
    inst = _instance()
    row = _backup(inst)
    assert _report(inst, row, 1.0, state='BUILDING').state == 'BUILDING'
    done = _report(inst, row, 2.0, state='COMPLETED', size=0.25, checksum='ab',
                   location='/s/x', success=True, bogus='ignored')
    assert (done.state, done.size, done.checksum, done.location) == (
        'COMPLETED', 0.25, 'ab', '/s/x')


def test_stale_report_dropped(db):
    inst = _instance()
    row = _backup(inst)
    _report(inst, row, 5.0, state='BUILDING')
    _report(inst, row, 6.0, state='FAILED')
    # An older BUILDING (re-delivered) must not resurrect it.
    assert _report(inst, row, 5.5, state='BUILDING').state == 'FAILED'


def test_report_for_other_instance_dropped(db):
    inst, other = _instance(), _instance()
    row = _backup(inst)
    assert _report(other, row, 1.0, state='COMPLETED').state == 'NEW'


def test_invalid_state_ignored(db):
    inst = _instance()
    row = _backup(inst)
    assert _report(inst, row, 1.0, state='DELETED').state == 'NEW'


def test_late_completion_of_failed_backup_removes_object(db, tmp_path):
    CONF.set_override('local_store_path', str(tmp_path), group='backup')
    try:
        store = local.LocalStore()
        obj = store.put_stream('c', 'late', iter([b'data']), {})
        inst = _instance()
        row = _backup(inst, state='FAILED')
        after = _report(inst, row, 1.0, state='COMPLETED', location=obj.location)
        assert after.state == 'FAILED' and after.location != obj.location
        assert not store.exists(obj.location)
    finally:
        CONF.clear_override('local_store_path', group='backup')


def test_watchdog_fails_silent_backups_only(db):
    inst = _instance()
    silent, fresh = _backup(inst), _backup(_instance())
    done = _backup(_instance(), state='COMPLETED')
    old = models.utcnow() - datetime.timedelta(seconds=CONF.backup.stall_timeout + 5)
    with writer() as session:
        session.execute(update(models.Backup).where(models.Backup.id.in_(
            [silent.id, done.id])).values(updated=old))
    assert backup_flow.watchdog() == [silent.id]
    assert db_backups.get_backup(silent.id).state == 'FAILED'
    assert db_backups.get_backup(fresh.id).state == 'NEW'
    assert db_backups.get_backup(done.id).state == 'COMPLETED'


def test_create_backup_cast_failure_fails_backup(db, monkeypatch):
    inst = _instance()
    row = _backup(inst)

    class Broken:
        def __init__(self, *a):
            pass

        def create_backup(self, **kw):
            raise RuntimeError('no broker')

    monkeypatch.setattr(backup_flow.guest_rpcapi, 'GuestAPI', Broken)
    backup_flow.create_backup(None, {'id': row.id}, inst.id)
    assert db_backups.get_backup(row.id).state == BackupState.FAILED


def test_delete_removes_children_first(db, tmp_path):
    CONF.set_override('local_store_path', str(tmp_path), group='backup')
    try:
        store = local.LocalStore()
        inst = _instance()
        rows = []
        for name in ('full', 'inc1', 'inc2'):
            obj = store.put_stream('c', name, iter([name.encode()]), {})
            rows.append(_backup(inst, parent=rows[-1].id if rows else None,
                                state='COMPLETED', location=obj.location))
        other = _backup(inst, state='COMPLETED')
        backup_flow.delete_backup(None, rows[0].id)
        assert [b.id for b in db_backups.list_backups()] == [other.id]
        assert sorted(p.name for p in (tmp_path / 'c').iterdir()) == []
    finally:
        CONF.clear_override('local_store_path', group='backup')


def test_delete_store_failure_marks_delete_failed(db, monkeypatch):
    inst = _instance()
    full = _backup(inst, state='COMPLETED', location='/nowhere/full')
    inc = _backup(inst, parent=full.id, state='COMPLETED', location='/nowhere/inc')

    class Failing:
        def delete(self, location):
            raise OSError('store down')

    monkeypatch.setattr(backup_flow.stores, 'get_store', lambda name: Failing())
    backup_flow.delete_backup(None, full.id)
    assert db_backups.get_backup(inc.id).state == BackupState.DELETE_FAILED
    assert db_backups.get_backup(full.id).state == BackupState.COMPLETED


def test_stopped_delete_withdraws_its_request(db, monkeypatch):
    full = _backup(_instance(), state='COMPLETED', location='/nowhere/full')
    assert db_backups.request_delete(full.id)
    assert not db_backups.request_delete(full.id)  # one request at a time

    class Failing:
        def delete(self, location):
            raise OSError('store down')

    monkeypatch.setattr(backup_flow.stores, 'get_store', lambda name: Failing())
    backup_flow.delete_backup(None, full.id)
    assert db_backups.get_backup(full.id).state == BackupState.DELETE_FAILED
    assert db_backups.pending_deletes() == []


def test_unfinished_deletes_are_finished_once_old_enough(db, tmp_path):
    from trove.taskmanager import recovery
    CONF.set_override('local_store_path', str(tmp_path), group='backup')
    try:
        store = local.LocalStore()
        inst = _instance()
        rows = []
        for name in ('old', 'young', 'kept'):
            obj = store.put_stream('c', name, iter([name.encode()]), {})
            rows.append(_backup(inst, state='COMPLETED', location=obj.location))
        old, young, kept = rows
        db_backups.request_delete(old.id)
        db_backups.request_delete(young.id)
        _age(models.Backup, old.id, 60, column='delete_requested')
        assert [r.id for r in db_backups.pending_deletes(older_than=30)] == [old.id]
        recovery.finish_backup_deletes(None, older_than=30)
        assert sorted(b.id for b in db_backups.list_backups()) == sorted([young.id, kept.id])
        recovery.finish_backup_deletes(None)  # at start-up: all of them
        assert [b.id for b in db_backups.list_backups()] == [kept.id]
        assert sorted(p.name for p in (tmp_path / 'c').iterdir()) == ['kept', 'kept.meta.json']
    finally:
        CONF.clear_override('local_store_path', group='backup')


def test_watchdog_removes_partial_upload_of_dead_guest(db, tmp_path):
    CONF.set_override('local_store_path', str(tmp_path), group='backup')
    try:
        inst = _instance()
        silent = _backup(inst, state='BUILDING')
        (tmp_path / 'c').mkdir()
        leftover = tmp_path / 'c' / ('.%s.xbstream.zst.1234.part' % silent.id)
        leftover.write_bytes(b'half a backup')
        keep = tmp_path / 'c' / 'unrelated.xbstream.zst'
        keep.write_bytes(b'x')
        old = models.utcnow() - datetime.timedelta(seconds=CONF.backup.stall_timeout + 5)
        with writer() as session:
            session.execute(update(models.Backup).where(models.Backup.id == silent.id)
                            .values(updated=old))
        assert backup_flow.watchdog() == [silent.id]
        assert not leftover.exists() and keep.exists()
    finally:
        CONF.clear_override('local_store_path', group='backup')


def _age(model, ident, seconds, column='updated'):
    old = models.utcnow() - datetime.timedelta(seconds=seconds)
    key = model.id if model is models.Backup else model.instance_id
    with writer() as session:
        session.execute(update(model).where(key == ident).values(**{column: old}))


def test_watchdog_fails_backups_of_a_silent_guest_soon(db):
    """Not after stall_timeout: once the guest missed its heartbeats."""
    from trove.common import states
    silent_inst, live_inst = _instance(), _instance()
    for inst in (silent_inst, live_inst):
        db_api.set_service_status(inst.id, states.ServiceStatus.HEALTHY)
    expiry = CONF.agent_heartbeat_expiry
    assert expiry + 10 < CONF.backup.stall_timeout
    silent = _backup(silent_inst, state='BUILDING')
    live = _backup(live_inst, state='BUILDING')
    for row in (silent, live):
        _age(models.Backup, row.id, expiry + 5)
    _age(models.ServiceStatusRow, silent_inst.id, expiry + 5, column='updated_at')
    assert backup_flow.watchdog() == [silent.id]
    assert db_backups.get_backup(silent.id).state == 'FAILED'
    assert 'stopped reporting' in db_api.get_fault(silent_inst.id).message
    # Its guest still heartbeats: a slow backup is left to the stall rule.
    assert db_backups.get_backup(live.id).state == 'BUILDING'
