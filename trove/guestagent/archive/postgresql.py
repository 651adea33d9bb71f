"""PostgreSQL's continuous archive: ``pg_receivewal`` streaming, recovery to a time.

Streaming: ``pg_receivewal`` connects over the private unix socket as the
internal admin (peer authentication and the ``local replication`` line the
base backups use) through the physical slot ``trove_archive``, so the engine
keeps every WAL byte until the archive has received it, even across a
restart of the agent or the engine.  ``--synchronous`` flushes what it
received at once (the RPO is the shipper's period, not a segment's fill
time) and ``--no-loop`` makes it exit on a lost connection, so the shipper
restarts it and sees it.  On start it resumes from the newest file in the
spool: a finished segment's successor, or the start of a ``.partial``
segment, whose bytes it writes again unchanged; with an empty spool it
starts at the slot's reserved position (PostgreSQL 15).

``pg_receivewal`` pre-allocates a ``.partial`` segment with zeros, so the
bytes written so far are not its size: ``written_size`` finds the last
written page by bisection (every written WAL page starts with a non-zero
magic number, pages are written in order) and ends after its last non-zero
byte.  Zeros after it are either not written yet or written as zeros; the
shipper sends them with the next non-zero byte, and the replay pads a short
segment back to the segment size with zeros, which is what a reader of the
pre-allocated file would have seen.

Replay: the base backup is extracted without recovery
(``PgBaseBackup.defer_recovery``); a private postgres then recovers with
``restore_command`` copying from the reassembled segments, to
``recovery_target_time`` inclusive, and promotes.  A target after the last
commit of the archive ends the recovery "before the target was reached":
every archived commit is then at or before the target, so the recovery is
run again to the end of the archive (the caller only asks for times inside
the shipped window).
"""
import contextlib
import datetime
import os
import re
import shutil
import subprocess
import tempfile

from oslo_log import log as logging

from trove.backup import archive_keys
from trove.common import exception
from trove.conf import CONF
from trove.guestagent.archive import base
from trove.guestagent.backup import postgresql as backup_pg
from trove.guestagent.engines.common import files
from trove.guestagent.engines.postgresql import app as app_mod

LOG = logging.getLogger(__name__)
SLOT = 'trove_archive'
PARTIAL = '.partial'
# XLOG_BLCKSZ: Debian's builds keep the default.
WAL_PAGE = 8192
DEFAULT_SEGMENT = 16 * 1024 * 1024
_SEGMENT_SIZE_RE = re.compile(r'Bytes per WAL segment:\s+(\d+)')
_BEFORE_TARGET = 'recovery ended before configured recovery target was reached'


def written_extent(path):
    """Bytes of a pre-allocated WAL file written so far (see the module doc)."""
    with open(path, 'rb') as f:
        pages = os.fstat(f.fileno()).st_size // WAL_PAGE

        def written(page):
            f.seek(page * WAL_PAGE)
            return f.read(2) not in (b'', b'\0\0')

        lo, hi = 0, pages  # pages [0, lo) are written, [hi, pages) are not
        while lo < hi:
            mid = (lo + hi) // 2
            if written(mid):
                lo = mid + 1
            else:
                hi = mid
        if lo == 0:
            return 0
        f.seek((lo - 1) * WAL_PAGE)
        return (lo - 1) * WAL_PAGE + len(f.read(WAL_PAGE).rstrip(b'\0'))


def pg_time(when):
    """``when`` (aware) as a PostgreSQL timestamptz literal in UTC, to the µs."""
    if when.tzinfo is None:
        raise exception.BadRequest(detail='the target time must carry a time zone')
    return when.astimezone(datetime.UTC).strftime('%Y-%m-%d %H:%M:%S.%f+00')


def pad_segments(directory, segment_size):
    """Extend every short WAL segment in ``directory`` with zeros to
    ``segment_size`` (recovery refuses an archived file of another size)."""
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if backup_pg.WAL_RE.match(name) and os.path.getsize(path) < segment_size:
            os.truncate(path, segment_size)


class PgReceiveWal(base.ArchiveStrategy):
    """WAL streamed with pg_receivewal through a slot; replayed by recovery."""

    name = 'pg_receivewal'

    @property
    def paths(self):
        return self.engine.paths

    def stream_argv(self, spool_dir):
        return [app_mod.find('pg_receivewal', self.engine.app.version),
                '--host=%s' % self.paths.run_dir, '--port=%d' % CONF.postgresql.port,
                '--username=%s' % CONF.postgresql.root_controller_user, '--no-password',
                '--directory=%s' % spool_dir, '--slot=%s' % SLOT, '--synchronous',
                '--no-loop', '--verbose']

    def prepare_stream(self):
        self.engine.replication.create_slot(SLOT)

    def end_stream(self):
        # Without its reader the slot would keep every WAL file forever.
        self.engine.replication.drop_slot(SLOT)

    def segment_key(self, filename):
        if filename.endswith('.tmp'):
            return None
        key = filename.removesuffix(PARTIAL)
        if backup_pg.WAL_RE.match(key) or backup_pg.HISTORY_RE.match(key):
            return key
        return None

    def written_size(self, path):
        if path.endswith(PARTIAL):
            return written_extent(path)
        return os.path.getsize(path)

    def sort_key(self, key):
        return archive_keys.wal_order(key)

    def first_segment(self, backup_meta):
        first = archive_keys.wal_first_segment(backup_meta)
        if not first:
            raise exception.EngineError(detail='a point-in-time restore starts from a '
                                               'PostgreSQL base backup')
        return first

    def replay(self, req):
        segment_size = self._segment_size()
        pad_segments(req.segments_dir, segment_size)
        _readable_by_engine(req.segments_dir)
        workdir = tempfile.mkdtemp(prefix='replay-', dir=CONF.mount_point)
        recovery = backup_pg.PgBaseBackup(self.engine)
        target = {'recovery_target_time': pg_time(req.target_time),
                  'recovery_target_inclusive': True}
        log = os.path.join(self.paths.log_dir, 'restore.log')
        start = _size(log)
        try:
            try:
                recovery._recover(workdir, req.segments_dir, None, target)
            except exception.EngineError:
                if not _logged_since(log, start, _BEFORE_TARGET):
                    raise
                LOG.info('No archived commit after %s: recovering to the end of the '
                         'archive', target['recovery_target_time'])
                recovery._recover(workdir, req.segments_dir, None, {})
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        LOG.info('PostgreSQL recovered to %s', target['recovery_target_time'])
        if os.path.exists(self.paths.main_conf):
            self.engine.start()
        # Else a new instance's prepare writes the configuration and starts it.

    def _segment_size(self):
        out = subprocess.run([self.engine.app._find('pg_controldata'), '-D',
                              self.paths.datadir], capture_output=True, text=True,
                             env=dict(os.environ, LC_ALL='C'), check=False)
        found = _SEGMENT_SIZE_RE.search(out.stdout)
        if not found:
            LOG.warning('pg_controldata gave no segment size (%s); assuming 16 MB',
                        out.stderr.strip())
        return int(found.group(1)) if found else DEFAULT_SEGMENT



def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _logged_since(path, offset, text):
    """Whether ``text`` was written to log ``path`` after ``offset``."""
    with contextlib.suppress(OSError), open(path, errors='replace') as f:
        f.seek(offset)
        return text in f.read()
    return False


def _readable_by_engine(directory):
    """The recovering server (the engine user) copies from ``directory``."""
    ids = files.engine_ids(app_mod.ENGINE_USER)
    if ids:
        os.chown(directory, *ids)
        for name in os.listdir(directory):
            os.lchown(os.path.join(directory, name), *ids)
    files.make_traversable(directory)
