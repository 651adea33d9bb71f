"""Ship an engine's streamed change log into the backup store, continuously.

The ``Shipper`` thread keeps the strategy's streaming process running (it
is restarted when it exits; after an agent restart the previous agent's
process is found through its pid file and adopted) and every ``interval``
seconds ships the bytes appended to each spool file since the last pass as
one checksummed object named ``<prefix>/<segment key>/<offset, 16 hex>``,
so the archive is never more than about two intervals behind the stream,
even inside a segment that is not finished.

What was shipped (the end offset of every segment, the newest recoverable
time) is saved in a state file after each object; a shipper that was killed
resumes from it: an object it stored but did not record is stored again
under the same name (same offset, the same bytes and maybe more), so the
archive has no gap and no duplicate.  Without a state file the offsets are
read back from the store.  Spool files that are fully shipped and followed
by two newer segments are deleted.

A stream may write a spool file again from its start when it restarts
(mariadb-binlog --raw truncates the newest binary log and copies it again):
a file shorter than what was shipped of it is being rewritten, so nothing
of it is shipped (no gap, nothing shipped twice) and the recoverable time
stands still until it has grown back.  Before bytes are appended to a
segment, the last ``TAIL`` bytes shipped of it are checked against the file
(a hash kept in the state; the strategy's ``volatile_offsets`` are left
out, MariaDB's in-use flag): a rewrite that gave back other bytes stops the
archive (an error in every pass, the recoverable time frozen) rather than
joining two different logs.

A strategy whose log stamps commits too coarsely for a sub-second
recoverable time (``samples_positions``: MariaDB, whole seconds) gets
position samples instead: every pass reads the engine's log end
(``log_end``) between two readings of the clock, and once the archive
holds the log up to that position the sample is stored beside the chunks
of its segment (``<prefix>/<key>/at/<offset>-<time>``, checksummed like
them, archive_keys.position_name) before its time is reported as the newest
recoverable one.  The time stored is the one read after the engine
answered: the log up to the position is what the engine had logged at an
instant no later than it.  Only a sample whose position differs from the
previous stored one is stored (an idle engine adds no objects); a restore
to T replays up to the newest sample at or before T (``position_at``).

``fetch_segments`` does the reverse for a restore: it lists the chunks of
an archive, checks that each segment's chunks are contiguous and that
every chunk hashes to the checksum the store recorded, and writes whole
segment files from a given first segment on.
"""
import contextlib
import datetime
import hashlib
import io
import json
import os
import threading
import time

from oslo_log import log as logging

from trove.backup import archive_keys
from trove.common import exception
from trove.guestagent.engines.common import child

LOG = logging.getLogger(__name__)
RESTART_DELAY = 1.0
KEEP_SHIPPED = 2
MAX_CHUNK = 8 * 1024 * 1024
# Bytes before a segment's shipped end that must read the same before more is shipped.
TAIL = 4096
# Samples kept while the stream is behind them (older ones are dropped: a
# restore between them falls back to the strategy's coarser rule).
MAX_SAMPLES = 256
_UNKNOWN = object()  # a log position the engine could not tell
# The object names, shared with the control plane's archive retention.
chunk_name = archive_keys.chunk_name
parse_chunk_name = archive_keys.parse_chunk_name
list_chunks = archive_keys.list_chunks


def _now():
    return datetime.datetime.now(datetime.UTC)


class ShipState:
    """The shipped offsets and the newest recoverable time, saved atomically."""

    def __init__(self, path):
        self.path = path
        self.shipped = {}
        self.latest = None
        # {key: sha256 of the TAIL bytes before its shipped end, volatile ones zeroed}
        self.tails = {}

    def load(self):
        """Whether a saved state was found."""
        try:
            with open(self.path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            return False
        self.shipped = {k: int(v) for k, v in data.get('shipped', {}).items()}
        self.latest = data.get('latest')
        self.tails = dict(data.get('tails', {}))
        return True

    def save(self):
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump({'shipped': self.shipped, 'latest': self.latest, 'tails': self.tails},
                      f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


class Shipper(threading.Thread):
    """Supervise ``strategy``'s stream into ``spool_dir`` and ship it to ``store``."""

    def __init__(self, strategy, store, container, prefix, spool_dir, state_dir,
                 interval=0.4, on_shipped=None):
        super().__init__(name='archive-shipper', daemon=True)
        self.strategy, self.store, self.container = strategy, store, container
        self.prefix, self.spool_dir, self.interval = prefix.strip('/'), spool_dir, interval
        self.on_shipped = on_shipped
        os.makedirs(spool_dir, exist_ok=True)
        os.makedirs(state_dir, exist_ok=True)
        self.state = ShipState(os.path.join(state_dir, 'shipped.json'))
        self.stream = None
        self._state_dir = state_dir
        self._stopping = threading.Event()
        self._prepared = False
        self._next_start = 0.0
        self._previous_start = None
        self._resumed = False
        # Keys of the spool files the last pass found shorter than shipped.
        self.rewriting = set()
        # Position samples (asked, answered, (key, offset)) not archived yet.
        self.sampling = getattr(strategy, 'samples_positions', False)
        self._samples = []
        self._stored_position = None

    # -- the streaming process ------------------------------------------------
    def _child(self, argv):
        if self.stream is None:
            self.stream = child.ChildProcess(
                'archive stream', (os.path.basename(argv[0]),),
                os.path.join(self._state_dir, 'stream.pid'),
                os.path.join(self._state_dir, 'stream.log'))

    def supervise(self):
        """Start the streaming process unless it runs; whether it runs."""
        if self.stream is None:
            # A stream a previous agent left running is adopted.  A strategy
            # that cannot give its command before prepare_stream (MariaDB's
            # login file) has no such stream.
            with contextlib.suppress(exception.EngineError):
                self._child(self.strategy.stream_argv(self.spool_dir))
        if self.stream is not None and self.stream.running_pid():
            return True
        if time.monotonic() < self._next_start:
            return False
        self._next_start = time.monotonic() + RESTART_DELAY
        try:
            if not self._prepared:
                self.strategy.prepare_stream()
                self._prepared = True
            argv = self.strategy.stream_argv(self.spool_dir)
            self._child(argv)
            pid = self.stream.spawn(argv)
            with open(self.stream.pid_file, 'w') as f:
                f.write('%d\n' % pid)
        except Exception as exc:  # the engine may be down: try again later
            LOG.warning('Cannot start the archive stream yet: %s', exc)
            return False
        LOG.info('Archive stream started (pid %d)', pid)
        return False

    # -- shipping -------------------------------------------------------------
    def resume(self):
        """Load the saved state, else rebuild the offsets from the store
        (called by the thread unless the caller did first)."""
        self._resumed = True
        if self.state.load():
            return
        for key, chunks in list_chunks(self.store, self.container, self.prefix).items():
            self.state.shipped[key] = max(
                offset + int(self.store.get_metadata(location)['size'])
                for offset, location in chunks)
        LOG.info('Archive offsets rebuilt from the store: %d segments', len(self.state.shipped))

    def _spool(self):
        """[(key, path)] of the spool in log order."""
        found = {}
        for name in os.listdir(self.spool_dir):
            key = self.strategy.segment_key(name)
            if key:
                found[key] = os.path.join(self.spool_dir, name)
        return sorted(found.items(), key=lambda kv: self.strategy.sort_key(kv[0]))

    def ship_once(self, streaming=True):
        """Ship what was appended since the last pass; returns bytes shipped.

        The newest recoverable time is the start of the previous pass, when
        the stream ran at both, no file was being rewritten and the archive
        holds the log up to where the engine said it was then: a commit
        before it had a whole interval to reach the spool (the engine stamps
        a commit before the log record is written, flushed and streamed),
        and this pass stored the spool as it was after that interval.  So
        the reported RPO is one to two intervals (plus what the strategy's
        ``restorable_time`` takes off: MariaDB's stamps are whole seconds).
        """
        started, total = _now(), 0
        # A pass cut short by an error vouches for nothing.
        previous, self._previous_start = self._previous_start, None
        position = self._log_end() if streaming else _UNKNOWN
        if self.sampling and streaming and position not in (None, _UNKNOWN):
            self._samples = self._samples[-MAX_SAMPLES + 1:] + [(started, _now(), position)]
        spool = self._spool()
        self.rewriting = set()
        for key, path in spool:
            try:
                total += self._ship_file(key, path)
            except FileNotFoundError:  # renamed (.partial finished): next pass
                continue
        caught_up = streaming and not self.rewriting
        if self.sampling:
            self._store_samples()
        elif caught_up and previous and self._reached(previous[1]):
            latest = self.strategy.restorable_time(previous[0])
            self.state.latest = latest.isoformat()
            self.state.save()
            if self.on_shipped:
                self.on_shipped(latest)
        self._previous_start = (started, position) if caught_up else None
        self._drop_shipped(spool)
        return total

    def _store_samples(self):
        """Store the samples whose position the archive holds, newest last,
        and report the newest one's time; the others wait for their bytes."""
        reached = [s for s in self._samples if self._reached(s[2])]
        if not reached:
            return
        self._samples = [s for s in self._samples if s not in reached]
        for asked, answered, (key, offset) in reached:
            if (key, offset) == self._stored_position:
                continue  # nothing logged since: the stored sample says it
            body = json.dumps({'segment': key, 'offset': offset, 'asked': asked.isoformat(),
                               'time': answered.isoformat()}).encode()
            self.store.put_stream(self.container, archive_keys.position_name(
                self.prefix, key, offset, answered), [body], {'format': 'archive-position'})
            self._stored_position = (key, offset)
        latest = reached[-1][1]
        self.state.latest = latest.isoformat()
        self.state.save()
        if self.on_shipped:
            self.on_shipped(latest)

    def _log_end(self):
        try:
            return self.strategy.log_end()
        except Exception as exc:  # the engine may be going down: vouch for nothing
            LOG.debug('The engine did not tell its log position: %s', exc)
            return _UNKNOWN

    def _reached(self, position):
        """Whether the archive holds the log up to ``position`` (log_end's)."""
        if position is None:
            return True
        if position is _UNKNOWN:
            return False
        key, offset = position
        if self.state.shipped.get(key, 0) >= offset:
            return True
        # A later log began only after this one was complete, and each pass
        # ships every listed file to its end in log order.
        order = self.strategy.sort_key(key)
        return any(self.strategy.sort_key(k) > order for k in self.state.shipped)

    def _ship_file(self, key, path):
        offset = self.state.shipped.get(key, 0)
        end, shipped = self.strategy.written_size(path), 0
        if end < offset:
            # Written again from its start: wait until it is past what was shipped.
            self.rewriting.add(key)
            return 0
        with open(path, 'rb') as f:
            while offset < end:
                # One read of the shipped tail and the new bytes: a truncation
                # in between cannot pair a tail with bytes of another write.
                start = max(0, offset - TAIL)
                f.seek(start)
                # Bounded: after a long outage a binary log may be a GB behind.
                buf = f.read(offset - start + min(end - offset, MAX_CHUNK))
                if len(buf) <= offset - start:  # truncated since it was measured
                    self.rewriting.add(key)
                    break
                self._check_tail(key, start, buf[:offset - start])
                data = buf[offset - start:]
                meta = {'archive_key': key, 'offset': offset, 'format': 'archive-chunk'}
                self.store.put_stream(self.container, chunk_name(self.prefix, key, offset),
                                      [data], meta)
                offset += len(data)
                shipped += len(data)
                self.state.shipped[key] = offset
                self.state.tails[key] = self._digest(key, offset - min(offset, TAIL),
                                                     buf[-TAIL:])
                self.state.save()
        return shipped

    def _digest(self, key, start, data):
        """sha256 of ``data`` read at ``start`` of segment ``key``, the
        strategy's volatile bytes zeroed."""
        data = bytearray(data)
        for offset in self.strategy.volatile_offsets(key):
            if start <= offset < start + len(data):
                data[offset - start] = 0
        return hashlib.sha256(data).hexdigest()

    def _check_tail(self, key, start, data):
        expected = self.state.tails.get(key)
        if expected and self._digest(key, start, data) != expected:
            raise exception.EngineError(
                detail='spool file %s no longer holds the bytes shipped before offset %d; '
                       'the archive stops here' % (key, start + len(data)))

    def _drop_shipped(self, spool):
        for key, path in spool[:-KEEP_SHIPPED]:
            with contextlib.suppress(FileNotFoundError):
                if self.state.shipped.get(key, -1) >= os.path.getsize(path):
                    os.unlink(path)

    # -- the thread ------------------------------------------------------------
    def run(self):
        if not self._resumed:
            self.resume()
        while not self._stopping.is_set():
            try:
                running = self.supervise()
                self.ship_once(streaming=running)
            except Exception:
                LOG.exception('Archive shipping failed; retrying')
            self._stopping.wait(self.interval)

    def stop(self, timeout=30):
        """Stop the thread and the stream, shipping what was streamed last."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout)
        if self.stream is not None:
            self.stream.terminate(timeout)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.stream.pid_file)
        self.ship_once(streaming=False)

    def disable(self, timeout=30):
        """Stop for good: also release what streaming held on the engine."""
        self.stop(timeout)
        self.strategy.end_stream()


def fetch_segments(store, container, prefix, strategy, first_key, target_dir):
    """Write the archive's segments from ``first_key`` on into ``target_dir``
    as whole files; returns their keys in log order.  EngineError when a
    chunk is missing or does not match its checksum."""
    chunks = list_chunks(store, container, prefix)
    first = strategy.sort_key(first_key)
    keys = sorted((k for k in chunks if strategy.sort_key(k) >= first), key=strategy.sort_key)
    if first_key not in chunks:
        raise exception.EngineError(detail='the archive does not hold segment %s' % first_key)
    os.makedirs(target_dir, exist_ok=True)
    for key in keys:
        with open(os.path.join(target_dir, key), 'wb') as out:
            for offset, location in chunks[key]:
                if offset > out.tell():
                    raise exception.EngineError(detail='archive segment %s has a gap at '
                                                       'offset %d' % (key, out.tell()))
                # An overlap (a shipper killed between two saves of its
                # state stored a longer chunk again) holds the same bytes.
                _copy_checked(store, location, out, out.tell() - offset)
    return keys


def _copy_checked(store, location, out, skip):
    """Append the chunk at ``location`` but its first ``skip`` bytes to ``out``."""
    expected = store.get_metadata(location).get('checksum')
    digest = hashlib.sha256()
    for chunk in store.get_stream(location):
        digest.update(chunk)
        out.write(chunk[skip:])
        skip = max(0, skip - len(chunk))
    if digest.hexdigest() != expected:
        raise exception.EngineError(detail='archive chunk %s does not match its checksum'
                                           % location)


def position_at(store, container, prefix, strategy, first_key, target):
    """(segment key, offset) of the newest position sample of the archive at
    or before ``target`` whose segment is ``first_key`` or later, read back
    and checked against its checksum and name; None when there is none."""
    first = strategy.sort_key(first_key)
    for when, key, offset, location in reversed(archive_keys.list_positions(
            store, container, prefix)):
        if when > target or strategy.sort_key(key) < first:
            continue
        out = io.BytesIO()
        _copy_checked(store, location, out, 0)
        body = json.loads(out.getvalue())
        if (body.get('segment'), body.get('offset')) != (key, offset):
            raise exception.EngineError(detail='archive sample %s does not match its name'
                                               % location)
        return key, offset
    return None
