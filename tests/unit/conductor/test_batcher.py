"""The conductor's heartbeat batcher (trove.conductor.batcher)."""
import threading
import time

from trove.common import states
from trove.conductor import batcher
from trove.db.heartbeats import Beat

S = states.ServiceStatus


class Recorder:
    """An ``apply`` that records its batches; fails for beats in ``bad``."""

    def __init__(self, bad=()):
        self.batches = []
        self.bad = set(bad)
        self.lock = threading.Lock()

    def __call__(self, beats):
        with self.lock:
            self.batches.append(sorted((b.instance_id, b.sent) for b in beats))
        if self.bad & {b.instance_id for b in beats}:
            raise RuntimeError('refused')


def test_heartbeats_of_one_window_are_one_batch_with_the_newest_each():
    rec = Recorder()
    b = batcher.Batcher(rec, window=0.2)
    try:
        for sent in (1.0, 3.0, 2.0):
            b.submit(Beat('a', sent, S.HEALTHY))
        b.submit(Beat('b', 1.0, S.HEALTHY))
        assert rec.batches == []          # still collecting
        time.sleep(0.5)
        assert rec.batches == [[('a', 3.0), ('b', 1.0)]]
    finally:
        b.stop()


def test_heartbeats_from_many_threads_are_all_applied():
    rec = Recorder()
    b = batcher.Batcher(rec, window=0.02)
    try:
        def guest(n):
            for sent in range(50):
                b.submit(Beat('i%d' % n, float(sent), S.HEALTHY))
        threads = [threading.Thread(target=guest, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert b.flush()
        last = {}
        for batch in rec.batches:
            for iid, sent in batch:
                assert sent > last.get(iid, -1)   # never an older one after a newer
                last[iid] = sent
        assert last == {'i%d' % n: 49.0 for n in range(8)}
        assert len(rec.batches) < 8 * 50
    finally:
        b.stop()


def test_a_refused_heartbeat_does_not_hold_up_the_others():
    rec = Recorder(bad={'poison'})
    b = batcher.Batcher(rec, window=0.5)
    try:
        for iid in ('a', 'poison', 'b'):
            b.submit(Beat(iid, 1.0, S.HEALTHY))
        assert b.flush()              # flush does not wait out the window
        assert rec.batches[0] == [('a', 1.0), ('b', 1.0), ('poison', 1.0)]
        assert sorted(rec.batches[1:]) == [[('a', 1.0)], [('b', 1.0)], [('poison', 1.0)]]
        # The thread goes on with later heartbeats.
        b.submit(Beat('a', 2.0, S.HEALTHY))
        assert b.flush()
        assert rec.batches[-1] == [('a', 2.0)]
    finally:
        b.stop()


def test_stop_applies_what_is_pending():
    rec = Recorder()
    b = batcher.Batcher(rec, window=60)
    b.submit(Beat('a', 1.0, S.HEALTHY))
    b.stop()
    assert rec.batches == [[('a', 1.0)]]


def test_a_status_change_is_applied_without_waiting_for_the_window():
    rec = Recorder()
    b = batcher.Batcher(rec, window=2)
    try:
        b.submit(Beat('a', 1.0, S.HEALTHY))
        b.submit(Beat('b', 1.0, S.HEALTHY))
        assert b.flush()
        b.submit(Beat('b', 2.0, S.HEALTHY))    # no change: waits for the window
        time.sleep(0.1)
        assert len(rec.batches) == 1
        started = time.monotonic()
        b.submit(Beat('a', 2.0, S.CRASHED))    # the engine went down: at once
        deadline = started + 5
        while len(rec.batches) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert time.monotonic() - started < 1.0
        assert rec.batches[1] == [('a', 2.0), ('b', 2.0)]
    finally:
        b.stop()
