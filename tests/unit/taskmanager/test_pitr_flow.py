"""flows/pitr.py: the guest follows the stored wish; a failure is a fault."""
from trove.db import api as db_api
from trove.db import pitr as db_pitr
from trove.taskmanager.flows import pitr as pitr_flow


class Guest:
    calls = []
    fail = False

    def __init__(self, context, instance_id):
        self.instance_id = instance_id

    def start_archive(self, **kwargs):
        self._call('start_archive', kwargs)

    def stop_archive(self):
        self._call('stop_archive', {})

    def _call(self, method, kwargs):
        if Guest.fail:
            raise RuntimeError('guest unreachable')
        Guest.calls.append((self.instance_id, method, kwargs))


def _setup(monkeypatch):
    monkeypatch.setattr(pitr_flow.guest_rpcapi, 'GuestAPI', Guest)
    Guest.calls, Guest.fail = [], False
    return db_api.create_instance(dict(name='a', tenant_id='t', flavor_id='1')).id


def test_start_then_stop(db, monkeypatch):
    iid = _setup(monkeypatch)
    assert pitr_flow.apply(None, iid) is True and Guest.calls == []   # never asked
    db_pitr.request(iid, True, 'c1', 'local')
    pitr_flow.after_create(None, iid)     # still building: not yet
    assert Guest.calls == []
    db_api.update_instance(iid, server_status='ACTIVE')
    pitr_flow.after_create(None, iid)
    row = db_pitr.get(iid)
    assert Guest.calls == [(iid, 'start_archive', {'container': 'c1', 'prefix': row.prefix,
                                                   'storage_driver': 'local'})]
    assert row.since is not None
    db_pitr.request(iid, False, 'c1', 'local')
    assert pitr_flow.apply(None, iid) is True
    assert Guest.calls[-1] == (iid, 'stop_archive', {}) and db_pitr.get(iid).since is None


def test_a_guest_that_cannot_gets_a_fault(db, monkeypatch):
    iid = _setup(monkeypatch)
    db_pitr.request(iid, True, 'c1', 'local')
    Guest.fail = True
    assert pitr_flow.apply(None, iid) is False
    assert 'point-in-time recovery on failed' in db_api.get_fault(iid).message
    assert db_pitr.get(iid).since is None and db_pitr.get(iid).enabled


def test_taskmanager_start_applies_what_a_dead_one_left(db, monkeypatch):
    import contextlib
    iid = _setup(monkeypatch)
    other = db_api.create_instance(dict(name='b', tenant_id='t', flavor_id='1')).id
    for instance_id in (iid, other):
        db_api.update_instance(instance_id, server_status='ACTIVE')
        db_pitr.request(instance_id, True, 'c1', 'local')
    pitr_flow.apply(None, other)               # started: nothing to redo
    assert db_pitr.pending() == [iid]
    pitr_flow.reapply_pending(None, lambda _i: contextlib.nullcontext())
    assert [c[0] for c in Guest.calls] == [other, iid] and db_pitr.pending() == []
