"""The archive shipper against a real local store and a real streaming process.

The streaming process is ``archive_streamer.py`` (an endless, resumable
sequence of numbered lines in segment files), so what the archive must
hold is known exactly: every line the streamer wrote, once, in order.
"""
import datetime
import functools
import json
import os
import signal
import sys
import time

import pytest

from trove.backup import archive_keys
from trove.backup.stores import local
from trove.common import exception
from trove.guestagent.archive import base, shipper

STREAMER = os.path.join(os.path.dirname(__file__), 'archive_streamer.py')


class LineStrategy(base.ArchiveStrategy):
    """The streamer's segments: ``seg-<n>``, ordered by n."""

    def __init__(self, engine=None, pause=0.002):
        super().__init__(engine)
        self.pause, self.prepared, self.ended = pause, 0, 0

    def stream_argv(self, spool_dir):
        return [sys.executable, STREAMER, spool_dir, str(self.pause)]

    def prepare_stream(self):
        self.prepared += 1

    def end_stream(self):
        self.ended += 1

    def segment_key(self, filename):
        return filename if filename.startswith('seg-') else None

    def sort_key(self, key):
        return int(key[4:])

    def first_segment(self, backup_meta):
        return backup_meta['first']

    def start_from(self, backup_meta):
        self.started_from = backup_meta

    def replay(self, req):
        raise NotImplementedError


@pytest.fixture
def dirs(tmp_path):
    made = {k: str(tmp_path / k) for k in ('spool', 'state', 'store', 'out')}
    yield made
    pid_file = os.path.join(made['state'], 'stream.pid')
    if os.path.exists(pid_file):  # a stream a test left running
        try:
            os.kill(int(open(pid_file).read()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def _shipper(dirs, strategy, store):
    return shipper.Shipper(strategy, store, 'archives', 'inst-1', dirs['spool'],
                           dirs['state'], interval=0.1)


def _archived_lines(dirs, store, strategy, first='seg-000000'):
    keys = shipper.fetch_segments(store, 'archives', 'inst-1', strategy, first, dirs['out'])
    data = b''.join(open(os.path.join(dirs['out'], k), 'rb').read() for k in keys)
    return [int(x) for x in data.split(b'\n') if x]


def _wait(condition, timeout=20):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'timed out'
        time.sleep(0.05)


def test_chunk_names_round_trip():
    name = shipper.chunk_name('pitr/i1', '000000010000000000000003', 8192)
    assert name == 'pitr/i1/000000010000000000000003/0000000000002000'
    assert shipper.parse_chunk_name('pitr/i1', name) == ('000000010000000000000003', 8192)
    for bad in ('pitr/i2/k/0000000000002000', 'pitr/i1/k/2000', 'pitr/i1/a/b/0000000000002000',
                'pitr/i1/k/zzzzzzzzzzzzzzzz'):
        assert shipper.parse_chunk_name('pitr/i1', bad) is None, bad


def test_ships_restarts_the_stream_and_loses_nothing(dirs):
    strategy, store = LineStrategy(), local.LocalStore(dirs['store'])
    ship = _shipper(dirs, strategy, store)
    shipped = []
    ship.on_shipped = shipped.append
    ship.start()
    _wait(lambda: ship.state.shipped.get('seg-000002'))
    os.kill(ship.stream.running_pid(), signal.SIGKILL)  # mid-segment
    _wait(lambda: ship.state.shipped.get('seg-000005'))
    ship.stop()
    lines = _archived_lines(dirs, store, strategy)
    assert lines == list(range(len(lines))) and len(lines) >= 5 * 40
    assert shipped and shipped == sorted(shipped)
    assert strategy.prepared == 1
    # Shipped segments beyond the newest two left the spool.
    assert 'seg-000000' not in os.listdir(dirs['spool'])
    saved = json.load(open(os.path.join(dirs['state'], 'shipped.json')))
    assert saved['latest'] and saved['shipped']['seg-000003'] == 40 * 9
    ship.disable()
    assert strategy.ended == 1


def test_a_killed_shipper_resumes_without_gap_or_duplicate(dirs):
    strategy, store = LineStrategy(), local.LocalStore(dirs['store'])
    first = _shipper(dirs, strategy, store)
    first.resume()
    first.supervise()
    _wait(lambda: os.path.exists(os.path.join(dirs['spool'], 'seg-000001')))
    first.ship_once()
    stale = open(first.state.path).read()  # as saved before the next object
    _wait(lambda: os.path.exists(os.path.join(dirs['spool'], 'seg-000002')))
    first.ship_once()
    # Killed after storing objects it did not record: the old state is back.
    with open(first.state.path, 'w') as f:
        f.write(stale)
    pid = first.stream.running_pid()
    second = _shipper(dirs, strategy, store)  # the restarted agent's
    second.resume()
    assert second.supervise() is True and second.stream.running_pid() == pid  # adopted
    _wait(lambda: os.path.exists(os.path.join(dirs['spool'], 'seg-000004')))
    second.stop()
    lines = _archived_lines(dirs, store, strategy)
    assert lines == list(range(len(lines))) and len(lines) >= 4 * 40
    names = [n for n, _ in store.list_objects('archives', 'inst-1/')]
    assert len(names) == len(set(names))


def test_offsets_are_rebuilt_from_the_store(dirs):
    strategy, store = LineStrategy(), local.LocalStore(dirs['store'])
    first = _shipper(dirs, strategy, store)
    first.resume()
    first.supervise()
    _wait(lambda: os.path.exists(os.path.join(dirs['spool'], 'seg-000001')))
    first.stop()
    os.unlink(first.state.path)
    second = _shipper(dirs, strategy, store)
    second.resume()
    assert second.state.shipped == first.state.shipped


def test_fetch_refuses_gaps_and_bad_checksums(dirs):
    strategy, store = LineStrategy(), local.LocalStore(dirs['store'])
    put = store.put_stream
    put('archives', shipper.chunk_name('inst-1', 'seg-000000', 0), [b'abc'], {})
    put('archives', shipper.chunk_name('inst-1', 'seg-000000', 3), [b'def'], {})
    put('archives', shipper.chunk_name('inst-1', 'seg-000001', 0), [b'ghi'], {})
    assert shipper.fetch_segments(store, 'archives', 'inst-1', strategy, 'seg-000001',
                                  dirs['out']) == ['seg-000001']
    assert shipper.fetch_segments(store, 'archives', 'inst-1', strategy, 'seg-000000',
                                  dirs['out']) == ['seg-000000', 'seg-000001']
    assert open(os.path.join(dirs['out'], 'seg-000000'), 'rb').read() == b'abcdef'
    with pytest.raises(exception.EngineError, match='does not hold'):
        shipper.fetch_segments(store, 'archives', 'inst-1', strategy, 'seg-000007',
                               dirs['out'])
    tampered = store.list_objects('archives', 'inst-1/seg-000001/')[0][1]
    with open(tampered, 'wb') as f:
        f.write(b'GHI')
    with pytest.raises(exception.EngineError, match='checksum'):
        shipper.fetch_segments(store, 'archives', 'inst-1', strategy, 'seg-000000',
                               dirs['out'])
    # Overlapping chunks (stored again, longer, by a restarted shipper) join up.
    put('archives', shipper.chunk_name('inst-1', 'seg-000003', 0), [b'0123456'], {})
    put('archives', shipper.chunk_name('inst-1', 'seg-000003', 4), [b'45'], {})
    put('archives', shipper.chunk_name('inst-1', 'seg-000003', 6), [b'6789'], {})
    shipper.fetch_segments(store, 'archives', 'inst-1', strategy, 'seg-000003', dirs['out'])
    assert open(os.path.join(dirs['out'], 'seg-000003'), 'rb').read() == b'0123456789'
    put('archives', shipper.chunk_name('inst-1', 'seg-000002', 4), [b'late'], {})
    with pytest.raises(exception.EngineError, match='gap'):
        shipper.fetch_segments(store, 'archives', 'inst-1', strategy, 'seg-000002',
                               dirs['out'])


class RewrittenStrategy(LineStrategy):
    """Segments the test writes itself; byte ``volatile`` may change on a rewrite."""

    def __init__(self, volatile=None):
        super().__init__()
        self.volatile = volatile

    def volatile_offsets(self, key):
        return () if self.volatile is None else (self.volatile,)


def _write(dirs, name, data):
    with open(os.path.join(dirs['spool'], name), 'wb') as f:  # truncates, as --raw does
        f.write(data)


def _passes(ship, count=2):
    return [ship.ship_once(streaming=True) for _ in range(count)]


def test_a_file_rewritten_from_its_start_is_waited_for(dirs):
    strategy, store = RewrittenStrategy(), local.LocalStore(dirs['store'])
    ship = _shipper(dirs, strategy, store)
    ship.resume()
    data = bytes(range(256)) * 24  # longer than the checked tail
    _write(dirs, 'seg-000000', data[:5000])
    assert _passes(ship) == [5000, 0]
    latest = ship.state.latest
    assert latest
    _write(dirs, 'seg-000000', data[:300])  # the restarted stream begins again
    assert _passes(ship) == [0, 0]
    assert ship.rewriting == {'seg-000000'} and ship.state.latest == latest  # frozen
    _write(dirs, 'seg-000000', data[:5000])  # back where it was: nothing to ship
    assert ship.ship_once() == 0 and not ship.rewriting
    _write(dirs, 'seg-000000', data)
    _write(dirs, 'seg-000001', b'next')
    assert _passes(ship) == [len(data) - 5000 + 4, 0]
    assert ship.state.latest > latest
    names = [n for n, _ in store.list_objects('archives', 'inst-1/')]
    assert sorted(names) == [shipper.chunk_name('inst-1', 'seg-000000', 0),
                             shipper.chunk_name('inst-1', 'seg-000000', 5000),
                             shipper.chunk_name('inst-1', 'seg-000001', 0)]
    shipper.fetch_segments(store, 'archives', 'inst-1', strategy, 'seg-000000', dirs['out'])
    assert open(os.path.join(dirs['out'], 'seg-000000'), 'rb').read() == data


def test_a_volatile_byte_may_change_in_a_rewrite(dirs):
    strategy, store = RewrittenStrategy(volatile=21), local.LocalStore(dirs['store'])
    ship = _shipper(dirs, strategy, store)
    ship.resume()
    first = bytearray(b'x' * 100)
    first[21] = 1  # the in-use flag, set while the log is written
    _write(dirs, 'seg-000000', bytes(first))
    assert ship.ship_once() == 100
    again = bytearray(first + b'y' * 50)
    again[21] = 0  # cleared in the copy written after the log was closed
    _write(dirs, 'seg-000000', bytes(again))
    assert ship.ship_once() == 50
    shipper.fetch_segments(store, 'archives', 'inst-1', strategy, 'seg-000000', dirs['out'])
    # The archive keeps the byte as first shipped; nothing was shipped twice.
    assert open(os.path.join(dirs['out'], 'seg-000000'), 'rb').read() == bytes(first) + b'y' * 50


def test_a_rewrite_with_other_bytes_stops_the_archive(dirs):
    strategy, store = RewrittenStrategy(volatile=21), local.LocalStore(dirs['store'])
    ship = _shipper(dirs, strategy, store)
    ship.resume()
    _write(dirs, 'seg-000000', b'a' * 100)
    assert _passes(ship) == [100, 0]
    latest = ship.state.latest
    _write(dirs, 'seg-000000', b'a' * 40 + b'B' + b'a' * 100)  # not the same log
    for _ in range(2):
        with pytest.raises(exception.EngineError, match='no longer holds'):
            ship.ship_once()
    assert ship.state.shipped == {'seg-000000': 100} and ship.state.latest == latest
    # A restarted shipper finds the same (the digest is in the saved state).
    again = _shipper(dirs, strategy, store)
    again.resume()
    with pytest.raises(exception.EngineError, match='no longer holds'):
        again.ship_once()


class PositionStrategy(RewrittenStrategy):
    """Tells the shipper where "the engine's" log ends (``end``)."""

    end = None

    def log_end(self):
        if self.end == 'down':
            raise exception.EngineError(detail='engine down')
        return self.end


def test_the_recoverable_time_waits_for_the_logged_position(dirs):
    strategy, store = PositionStrategy(), local.LocalStore(dirs['store'])
    ship = _shipper(dirs, strategy, store)
    ship.resume()
    _write(dirs, 'seg-000000', b'a' * 100)
    strategy.end = ('seg-000000', 100)
    assert _passes(ship) == [100, 0]
    latest = ship.state.latest
    assert latest  # the archive reached where the log was
    strategy.end = ('seg-000000', 300)  # the stream is behind the engine
    ship.ship_once()  # vouches for the previous pass, which was reached
    latest = ship.state.latest
    _passes(ship, 3)
    assert ship.state.latest == latest
    _write(dirs, 'seg-000000', b'a' * 300)  # caught up
    _passes(ship)
    assert ship.state.latest > latest
    latest = ship.state.latest
    strategy.end = 'down'
    ship.ship_once()
    latest = ship.state.latest
    _passes(ship)
    assert ship.state.latest == latest  # the engine could not tell: nothing vouched
    strategy.end = ('seg-000001', 10)
    _write(dirs, 'seg-000001', b'b' * 10)
    _passes(ship, 3)
    assert ship.state.latest > latest
    # A position in a log that a later shipped log follows is reached.
    assert ship._reached(('seg-000000', 10 ** 6)) and not ship._reached(('seg-000001', 11))


class SamplingStrategy(PositionStrategy):
    samples_positions = True


def _iso(text):
    return datetime.datetime.fromisoformat(text)


def test_position_samples_are_stored_once_archived_and_found_by_time(dirs):
    strategy, store = SamplingStrategy(), local.LocalStore(dirs['store'])
    ship = _shipper(dirs, strategy, store)
    ship.resume()
    _write(dirs, 'seg-000000', b'a' * 100)
    strategy.end = ('seg-000000', 100)
    before = datetime.datetime.now(datetime.UTC)
    ship.ship_once()
    first = _iso(ship.state.latest)
    assert first > before  # the sample's own time, vouched in the same pass
    ship.ship_once()  # idle: the time moves on, no new object
    assert _iso(ship.state.latest) > first
    samples = archive_keys.list_positions(store, 'archives', 'inst-1')
    assert [(k, o) for _t, k, o, _loc in samples] == [('seg-000000', 100)]
    assert samples[0][0] == first
    strategy.end = ('seg-000000', 250)  # the engine logged more than the stream has
    ship.ship_once()
    held = ship.state.latest
    assert len(archive_keys.list_positions(store, 'archives', 'inst-1')) == 1
    _write(dirs, 'seg-000000', b'a' * 250)
    ship.ship_once()  # the waiting sample and this pass's are archived now
    assert _iso(ship.state.latest) > _iso(held)
    samples = archive_keys.list_positions(store, 'archives', 'inst-1')
    assert [(k, o) for _t, k, o, _loc in samples] == [('seg-000000', 100), ('seg-000000', 250)]
    # A restore finds the newest sample at or before its time, checked.
    at = samples[1][0]
    find = functools.partial(shipper.position_at, store, 'archives', 'inst-1', strategy,
                             'seg-000000')
    assert find(at) == ('seg-000000', 250)
    assert find(at - datetime.timedelta(microseconds=1)) == ('seg-000000', 100)
    assert find(samples[0][0] - datetime.timedelta(microseconds=1)) is None
    assert shipper.position_at(store, 'archives', 'inst-1', strategy, 'seg-000001', at) is None
    with open(samples[1][3], 'wb') as f:
        f.write(b'{"segment": "seg-000000", "offset": 999}')
    with pytest.raises(exception.EngineError, match='checksum'):
        find(at)
    # Pruning takes a segment's samples with its chunks.
    objects = archive_keys.list_segment_objects(store, 'archives', 'inst-1')
    assert {loc for _t, _k, _o, loc in samples} <= {loc for _o, loc in objects['seg-000000']}


def test_position_names_round_trip():
    when = datetime.datetime(2026, 3, 1, 10, 0, 5, 123456, tzinfo=datetime.UTC)
    name = archive_keys.position_name('pitr/i1', 'mysql-bin.000003', 4096, when)
    assert name == 'pitr/i1/mysql-bin.000003/at/0000000000001000-20260301T100005.123456Z'
    assert archive_keys.parse_position_name('pitr/i1', name) == ('mysql-bin.000003', 4096,
                                                                  when)
    assert shipper.parse_chunk_name('pitr/i1', name) is None  # never read as a chunk
    for bad in ('pitr/i1/k/0000000000001000', 'pitr/i1/k/at/1000-20260301T100005.123456Z',
                'pitr/i1/k/at/0000000000001000-x', 'pitr/i2/k/at/0000000000001000-'
                '20260301T100005.123456Z'):
        assert archive_keys.parse_position_name('pitr/i1', bad) is None, bad
