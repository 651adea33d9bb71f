"""Heartbeats applied in batches (trove.db.heartbeats)."""
from sqlalchemy import select

from trove.common import states
from trove.db import api, heartbeats, models
from trove.db.session import reader

S = states.ServiceStatus
Beat = heartbeats.Beat
KEEP = (S.RESTART_REQUIRED,)


def _new():
    return api.create_instance(dict(name='a', tenant_id='t', flavor_id='1')).id


def _status(instance_id):
    return S.from_code(api.get_service_status(instance_id).status_id)


def _stamp(instance_id):
    with reader() as session:
        return session.scalar(select(models.ConductorLastSeen.sent).where(
            models.ConductorLastSeen.instance_id == instance_id,
            models.ConductorLastSeen.method_name == 'heartbeat'))


def test_a_batch_sets_each_instance_and_stamps_it(db):
    a, b = _new(), _new()
    changes = heartbeats.apply([Beat(a, 10.0, S.HEALTHY), Beat(b, 11.0, S.SHUTDOWN)],
                               keep=KEEP)
    assert {(c.instance_id, c.before, c.after) for c in changes} == {
        (a, S.NEW, S.HEALTHY), (b, S.NEW, S.SHUTDOWN)}
    assert (_status(a), _status(b)) == (S.HEALTHY, S.SHUTDOWN)
    assert (_stamp(a), _stamp(b)) == (10.0, 11.0)
    # Second round: existing stamps are updated, not inserted again.
    heartbeats.apply([Beat(a, 20.0, S.SHUTDOWN), Beat(b, 21.0, S.HEALTHY)], keep=KEEP)
    assert (_status(a), _status(b)) == (S.SHUTDOWN, S.HEALTHY)
    assert (_stamp(a), _stamp(b)) == (20.0, 21.0)


def test_only_the_newest_of_an_instance_in_a_batch_counts(db):
    a = _new()
    changes = heartbeats.apply([Beat(a, 3.0, S.SHUTDOWN), Beat(a, 5.0, S.HEALTHY),
                                Beat(a, 4.0, S.FAILED)])
    assert [(c.before, c.after) for c in changes] == [(S.NEW, S.HEALTHY)]
    assert _status(a) == S.HEALTHY and _stamp(a) == 5.0


def test_stale_ones_are_dropped_the_others_applied(db):
    a, b = _new(), _new()
    heartbeats.apply([Beat(a, 10.0, S.HEALTHY), Beat(b, 10.0, S.HEALTHY)])
    # a: older and equal sent are stale; b: newer.
    assert heartbeats.apply([Beat(a, 9.0, S.SHUTDOWN)]) == []
    changes = heartbeats.apply([Beat(a, 10.0, S.SHUTDOWN), Beat(b, 10.5, S.SHUTDOWN)])
    assert [c.instance_id for c in changes] == [b]
    assert (_status(a), _status(b)) == (S.HEALTHY, S.SHUTDOWN)
    assert _stamp(a) == 10.0


def test_unknown_and_deleted_instances_are_skipped(db):
    a, gone = _new(), _new()
    api.purge_instance(gone)
    changes = heartbeats.apply([Beat('no-such-instance', 1.0, S.HEALTHY),
                                Beat(gone, 1.0, S.HEALTHY), Beat(a, 1.0, S.HEALTHY)])
    assert [c.instance_id for c in changes] == [a]
    assert _stamp(gone) is None and _stamp('no-such-instance') is None


def test_restart_required_stays_but_the_beat_is_stamped(db):
    a = _new()
    api.set_service_status(a, S.RESTART_REQUIRED)
    changes = heartbeats.apply([Beat(a, 7.0, S.HEALTHY)], keep=KEEP)
    assert [(c.before, c.after) for c in changes] == [(S.RESTART_REQUIRED,) * 2]
    assert _status(a) == S.RESTART_REQUIRED and _stamp(a) == 7.0
    # A status in keep itself replaces it (and another one once cleared).
    heartbeats.apply([Beat(a, 8.0, S.SHUTDOWN)])
    assert _status(a) == S.SHUTDOWN


def test_without_sent_always_applied_and_not_stamped(db):
    a = _new()
    heartbeats.apply([Beat(a, 10.0, S.HEALTHY)])
    heartbeats.apply([Beat(a, None, S.SHUTDOWN)])
    assert _status(a) == S.SHUTDOWN and _stamp(a) == 10.0


def test_replication_column_set_cleared_or_kept(db):
    a, b, c = _new(), _new(), _new()
    heartbeats.apply([Beat(i, 1.0, S.HEALTHY, '{"lag": 1}') for i in (a, b, c)])
    heartbeats.apply([Beat(a, 2.0, S.HEALTHY, '{"lag": 5}'), Beat(b, 2.0, S.HEALTHY, None),
                      Beat(c, 2.0, S.HEALTHY)])
    assert [api.get_service_status(i).replication for i in (a, b, c)] == [
        '{"lag": 5}', None, '{"lag": 1}']


def test_the_heartbeat_time_is_stamped(db):
    a = _new()
    before = models.utcnow()
    heartbeats.apply([Beat(a, 1.0, S.HEALTHY)])
    assert api.get_service_status(a).updated_at >= before
