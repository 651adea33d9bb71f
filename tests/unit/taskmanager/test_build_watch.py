"""build_watch: one status read per tick for every waiting build."""
import threading
import time

from trove.common import quota, states
from trove.db import api as db_api
from trove.taskmanager import build_watch

Seen = build_watch.Seen


class Rows:
    """A fake read_rows that counts its calls."""

    def __init__(self):
        self.calls = []
        self.rows = {}

    def __call__(self, ids):
        self.calls.append(set(ids))
        return {i: self.rows.get(i, Seen(task_id=None, status_id=None)) for i in ids}


def test_one_read_per_tick_for_all_watchers():
    rows = Rows()
    rows.rows = {'a': Seen(1, 2), 'b': Seen(1, 3)}
    board = build_watch.Board(read=rows, interval=0.05)
    got = {}

    def waiter(iid):
        with board.watch(iid):
            tick, seen = 0, None
            for _ in range(3):
                tick, seen = board.next(iid, tick)
            got[iid] = seen

    threads = [threading.Thread(target=waiter, args=(i,)) for i in 'ab' * 10]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert got == {'a': Seen(1, 2), 'b': Seen(1, 3)}
    # Twenty waiters, three ticks each: a handful of reads, each of both ids.
    assert 3 <= len(rows.calls) <= 8
    assert {'a', 'b'} in rows.calls


def test_poller_stops_when_nobody_watches():
    rows = Rows()
    board = build_watch.Board(read=rows, interval=0.02)
    with board.watch('a'):
        board.next('a', 0)
    time.sleep(0.1)
    calls = len(rows.calls)
    time.sleep(0.1)
    assert len(rows.calls) == calls
    assert not board._running
    with board.watch('a'):  # and starts again
        assert board.next('a', 0)[1] == Seen(None, None)


def test_next_times_out_when_reads_fail():
    def broken(ids):
        raise RuntimeError('database is gone')
    board = build_watch.Board(read=broken, interval=0.02)
    with board.watch('a'):
        assert board.next('a', 0, timeout=0.1) == (0, None)


def test_read_rows_sees_task_status_and_absence(db):
    row = quota.run_with_quotas('t1', quota.instance_deltas(+1, 1024, 1),
                                lambda: db_api.create_instance(dict(
                                    name='db1', tenant_id='t1', flavor_id='2',
                                    volume_size=1)))
    seen = build_watch.read_rows({row.id, 'nope'})
    assert seen['nope'] == Seen(None, None)
    assert seen[row.id].task_id == states.InstanceTask.BUILDING.code
    db_api.set_service_status(row.id, states.ServiceStatus.HEALTHY)
    seen = build_watch.read_rows({row.id})
    assert seen[row.id].status_id == states.ServiceStatus.HEALTHY.code
