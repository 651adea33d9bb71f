"""Conductor heartbeat handling."""
from trove.common import states
from trove.conductor import manager
from trove.db import api

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
    """An older heartbeat processed alongside a newer one never wins."""
    import threading
    import time as time_mod
    inst = api.create_instance(dict(name='a', tenant_id='t', flavor_id='1'))
    real_apply = api.apply_heartbeat
    seen_building = threading.Event()

    def slow_apply(instance_id, sent, status, **kwargs):
        if status == S.BUILDING:
            seen_building.set()
            time_mod.sleep(0.3)  # the newer heartbeat arrives meanwhile
        return real_apply(instance_id, sent, status, **kwargs)

    monkeypatch.setattr(manager.db_api, 'apply_heartbeat', slow_apply)
    mgr = manager.Manager()
    older = threading.Thread(target=mgr.heartbeat,
                             args=(None, inst.id, {'service_status': 'building'}, 1.0))
    older.start()
    seen_building.wait(2)
    mgr.heartbeat(None, inst.id, {'service_status': 'failed to spawn'}, 2.0)
    older.join()
    assert seen_building.is_set()
    assert _status(inst.id) == S.FAILED
