"""Conductor heartbeat handling."""
from trove.common import states
from trove.conductor import manager
from trove.db import api
from trove.db import heartbeats

S = states.ServiceStatus


def _status(instance_id):
    return S.from_code(api.get_service_status(instance_id).status_id)


def test_heartbeat_sets_status(db):
    inst = api.create_instance(dict(name='a', tenant_id='t', flavor_id='1'))
    manager.Manager().heartbeat(None, inst.id, {'service_status': 'healthy'}, sent=1.0)
    assert _status(inst.id) == S.HEALTHY


def test_stale_heartbeat_dropped(db):
    inst = api.create_instance(dict(name='a', tenant_id='t', flavor_id='1'))
    mgr = manager.Manager()
    mgr.heartbeat(None, inst.id, {'service_status': 'healthy'}, sent=2.0)
    mgr.heartbeat(None, inst.id, {'service_status': 'shutdown'}, sent=1.0)
    assert _status(inst.id) == S.HEALTHY


def test_unknown_status_ignored(db):
    inst = api.create_instance(dict(name='a', tenant_id='t', flavor_id='1'))
    manager.Manager().heartbeat(None, inst.id, {'service_status': 'weird'}, sent=1.0)
    assert _status(inst.id) == S.NEW


def test_restart_required_kept(db):
    inst = api.create_instance(dict(name='a', tenant_id='t', flavor_id='1'))
    api.set_service_status(inst.id, S.RESTART_REQUIRED)
    manager.Manager().heartbeat(None, inst.id, {'service_status': 'healthy'}, sent=1.0)
    assert _status(inst.id) == S.RESTART_REQUIRED


def test_notify_exc_info_saves_fault(db):
    inst = api.create_instance(dict(name='a', tenant_id='t', flavor_id='1'))
    manager.Manager().notify_exc_info(None, inst.id, 'Prepare failed: disk full')
    assert api.get_fault(inst.id).message == 'Prepare failed: disk full'


def test_heartbeat_for_deleted_instance_is_harmless(db):
    inst = api.create_instance(dict(name='a', tenant_id='t', flavor_id='1'))
    api.purge_instance(inst.id)
    manager.Manager().heartbeat(None, inst.id, {'service_status': 'healthy'}, sent=1.0)
    assert api.get_service_status(inst.id) is None


def test_concurrent_heartbeats_keep_the_newest(db, monkeypatch):
    """An older heartbeat applied alongside a newer one never wins."""
    import threading
    import time as time_mod
    inst = api.create_instance(dict(name='a', tenant_id='t', flavor_id='1'))
    real_apply = heartbeats.apply
    seen_building = threading.Event()

    def slow_apply(beats, **kwargs):
        if any(b.status == S.BUILDING for b in beats):
            seen_building.set()
            time_mod.sleep(0.3)  # the newer heartbeat arrives meanwhile
        return real_apply(beats, **kwargs)

    monkeypatch.setattr(manager.heartbeats, 'apply', slow_apply)
    mgr = manager.Manager()
    older = threading.Thread(target=mgr.heartbeat,
                             args=(None, inst.id, {'service_status': 'building'}, 1.0))
    older.start()
    seen_building.wait(2)
    mgr.heartbeat(None, inst.id, {'service_status': 'failed to spawn'}, 2.0)
    older.join()
    assert seen_building.is_set()
    assert _status(inst.id) == S.FAILED


def test_batched_heartbeats_are_applied_together_and_logged(db, caplog, monkeypatch):
    import logging
    a = api.create_instance(dict(name='a', tenant_id='t', flavor_id='1'))
    b = api.create_instance(dict(name='b', tenant_id='t', flavor_id='1'))
    batches = []
    real_apply = heartbeats.apply

    def counting_apply(beats, **kwargs):
        batches.append(len(beats))
        return real_apply(beats, **kwargs)

    monkeypatch.setattr(manager.heartbeats, 'apply', counting_apply)
    mgr = manager.Manager(batch_window=5)
    caplog.set_level(logging.INFO, logger='trove.conductor.manager')
    try:
        mgr.heartbeat(None, a.id, {'service_status': 'healthy'}, sent=1.0)
        mgr.heartbeat(None, b.id, {'service_status': 'shutdown'}, sent=1.0)
        mgr.heartbeat(None, a.id, {'service_status': 'failed to spawn'}, sent=0.5)
        assert _status(a.id) == S.NEW          # not applied before the window ends
        mgr.flush()
    finally:
        mgr.stop()
    assert batches == [2]
    assert (_status(a.id), _status(b.id)) == (S.HEALTHY, S.SHUTDOWN)
    assert 'Instance %s service status new -> healthy' % a.id in caplog.text
    assert 'Instance %s service status new -> shutdown' % b.id in caplog.text


def test_heartbeat_with_a_bad_sent_is_dropped(db):
    inst = api.create_instance(dict(name='a', tenant_id='t', flavor_id='1'))
    mgr = manager.Manager()
    for sent in ('yesterday', float('nan'), True, [1]):
        mgr.heartbeat(None, inst.id, {'service_status': 'healthy'}, sent=sent)
    assert _status(inst.id) == S.NEW
    mgr.heartbeat(None, inst.id, {'service_status': 'healthy'}, sent=3)
    assert _status(inst.id) == S.HEALTHY


def test_heartbeat_carries_the_archive_latest_time(db):
    """Stored while archiving is on, never backwards, batched with the status;
    a bad value is ignored and the status still stored."""
    import datetime

    from trove.db import models
    from trove.db import pitr as db_pitr
    inst = api.create_instance(dict(name='a', tenant_id='t', flavor_id='1'))
    off = api.create_instance(dict(name='b', tenant_id='t', flavor_id='1'))
    db_pitr.request(inst.id, True, 'c', 'local')
    db_pitr.mark_started(inst.id, models.utcnow())
    db_pitr.request(off.id, False, 'c', 'local')
    mgr = manager.Manager(batch_window=0.05)
    for iid in (inst.id, off.id):
        mgr.heartbeat(None, iid, {'service_status': 'healthy',
                                  'archive_latest': '2026-12-03T10:00:05.250000+00:00'},
                      sent=1.0)
    mgr.flush()
    assert db_pitr.get(inst.id).latest == datetime.datetime(2026, 12, 3, 10, 0, 5, 250000)
    assert db_pitr.get(off.id).latest is None
    mgr.heartbeat(None, inst.id, {'service_status': 'healthy',
                                  'archive_latest': '2026-12-03T09:00:00+00:00'}, sent=2.0)
    mgr.heartbeat(None, inst.id, {'service_status': 'shutdown',
                                  'archive_latest': 'soon'}, sent=3.0)
    mgr.stop()
    assert db_pitr.get(inst.id).latest == datetime.datetime(2026, 12, 3, 10, 0, 5, 250000)
    assert _status(inst.id) == S.SHUTDOWN
