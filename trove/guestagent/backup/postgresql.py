"""pg_basebackup + WAL archive strategy of the PostgreSQL engine.

Full backup: ``pg_basebackup -D - -Ft -X fetch`` over the private unix
socket as the internal admin (peer authentication, a ``local replication``
line in pg_hba.conf): one tar of the cluster written to stdout, holding the
WAL from the backup's start to its end point, so it restores on its own.
``--verbose`` makes pg_basebackup print its start and end LSNs on stderr
(the runner's log); they and their WAL file names are recorded beside the
object.

Incremental backup: PostgreSQL 15 has no incremental base backup, so an
incremental is the WAL written since its parent.  The engine archives every
finished segment into ``<volume>/wal_archive`` (``archive_mode`` and an
``archive_command`` pinned in postgresql.conf).  The incremental creates a
named restore point, switches to a new segment, waits until the segment
holding the restore point is archived, and ships as a tar the archived
segments from its parent's last one to that one (they must all be there,
contiguous, else it fails and asks for a full backup), plus the timeline
history files.  Its metadata records the restore point; the next
incremental starts from its last segment.

Restore: the full tar is extracted into the empty datadir and the WAL of
every incremental of the chain into one directory; a temporary postgres
(no TCP, ``hot_standby = off`` so nobody connects before the end) recovers
with ``restore_command`` copying from that directory, to
``recovery_target = immediate`` for a full backup (the consistent point =
the end of the backup) or to ``recovery_target_name`` = the restore point of
the last incremental, then promotes; PostgreSQL fails the recovery when the
target is not reached, so a restore is exact or an error.  The temporary
server is stopped cleanly and the engine starts on the result.

After a full backup, archived segments older than its start are deleted:
incrementals on older full backups then fail readably (take a full backup).
-X fetch needs the backup's WAL to survive until its end; with the archiver
on and checkpoints every few minutes that holds except for very long
backups under heavy writes, which fail cleanly.
"""
import contextlib
import getpass
import os
import re
import shlex
import signal
import time
import uuid

import psycopg
from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.backup import base
from trove.guestagent.engines import process
from trove.guestagent.engines.common import child, files
from trove.guestagent.engines.postgresql import admin as admin_mod
from trove.guestagent.engines.postgresql import app as app_mod
from trove.guestagent.engines.postgresql import config, security

LOG = logging.getLogger(__name__)
WAL_RE = re.compile(r'^[0-9A-F]{24}$')
# tar reads 1 MB records (2048 x 512 B) from the decompressor's pipe rather
# than 10 KB ones: a fifth of the extraction time (see base.widen).
TAR_RECORD_BLOCKS = '2048'


def _untar(target):
    """Extract a tar stream from stdin into ``target``, owned by whoever extracts."""
    return ['tar', '-b', TAR_RECORD_BLOCKS, '-xf', '-', '--no-same-owner', '-C', target]
HISTORY_RE = re.compile(r'^[0-9A-F]{8}\.history$')
_START_RE = re.compile(r'write-ahead log start point: ([0-9A-F]+/[0-9A-F]+) on timeline (\d+)')
_END_RE = re.compile(r'write-ahead log end point: ([0-9A-F]+/[0-9A-F]+)')


def segment_number(name, seg_size):
    """Position of WAL file ``name`` in its timeline's segment sequence."""
    per_id = 0x100000000 // seg_size
    return int(name[8:16], 16) * per_id + int(name[16:24], 16)


def wal_range(names, first, last, seg_size):
    """The WAL files from ``first`` to ``last`` (inclusive) among ``names``;
    EngineError when one of them is missing or they span timelines."""
    if first[:8] != last[:8]:
        raise exception.EngineError(detail='the parent backup is on another timeline; '
                                           'take a full backup')
    lo, hi = segment_number(first, seg_size), segment_number(last, seg_size)
    if hi < lo:
        raise exception.EngineError(detail='WAL end %s precedes its start %s' % (last, first))
    wanted = [n for n in sorted(names) if WAL_RE.match(n) and n[:8] == first[:8]
              and lo <= segment_number(n, seg_size) <= hi]
    if len(wanted) != hi - lo + 1:
        raise exception.EngineError(detail='the WAL since the parent backup is no longer '
                                           'archived (%s..%s); take a full backup'
                                    % (first, last))
    return wanted


def parse_basebackup_log(text):
    """(start_lsn, timeline, end_lsn) from pg_basebackup --verbose output."""
    start, end = _START_RE.search(text), _END_RE.search(text)
    if not start or not end:
        raise exception.EngineError(detail='pg_basebackup did not report its WAL points')
    return start.group(1), int(start.group(2)), end.group(1)


def prunable(names, keep_from):
    """Archived WAL files (and their .partial/.backup files) older than ``keep_from``."""
    return [n for n in names if WAL_RE.match(n[:24]) and not n.endswith('.tmp')
            and n[:24] < keep_from]


def recovery_conf(paths, workdir, wal_dir, target_name=None, target=None):
    """postgresql.conf of the temporary recovery server; ``target`` (recovery
    settings, e.g. a target time; ``{}`` = the end of the WAL) replaces the
    default target of ``target_name`` or the end of the base backup."""
    settings = {
        'data_directory': paths.datadir,
        'hba_file': os.path.join(workdir, 'pg_hba.conf'),
        'ident_file': os.path.join(workdir, 'pg_ident.conf'),
        'listen_addresses': '', 'port': CONF.postgresql.port,
        'unix_socket_directories': paths.run_dir, 'unix_socket_permissions': '0700',
        'logging_collector': False, 'archive_mode': False,
        # Nobody may connect (and see a half-recovered cluster) before promotion;
        # it also spares the hot-standby checks of max_connections & co.
        'hot_standby': False,
        'restore_command': 'cp %s/%%f %%p' % shlex.quote(wal_dir),
        'recovery_target_action': 'promote',
    }
    if target is not None:
        settings.update(target)
    elif target_name:
        settings['recovery_target_name'] = target_name
    else:
        settings['recovery_target'] = 'immediate'
    return ''.join('%s = %s\n' % (k, config.quote(v)) for k, v in settings.items())


class PgBaseBackup(base.BackupStrategy):
    """Hot physical backups of a running PostgreSQL cluster."""

    name = 'pg_basebackup'
    stream_format = 'tar'

    def __init__(self, engine):
        super().__init__(engine)
        self._incremental_meta = None
        # Set before restore() when an archive replay follows (point-in-time
        # recovery): the base is only put in place, since recovering to its
        # end and promoting would fork a timeline the archive cannot continue.
        self.defer_recovery = False

    @property
    def paths(self):
        return self.engine.paths

    def install(self):
        self.engine.app.install()
        if not app_mod.find('pg_basebackup', self.engine.app.version):
            raise exception.EngineError(detail='pg_basebackup is not installed')

    def _query(self, query, args=None):
        rows = self.engine.admin.execute(query, args)
        return rows[0][0] if rows else None

    def _seg_size(self):
        return int(self._query("SELECT setting FROM pg_settings "
                               "WHERE name = 'wal_segment_size'"))

    # -- backup ------------------------------------------------------------
    def backup_command(self, workdir, parent_meta):
        self._incremental_meta = None
        if parent_meta:
            return self._incremental_command(workdir, parent_meta)
        return [app_mod.find('pg_basebackup', self.engine.app.version),
                '--host=%s' % self.paths.run_dir, '--port=%d' % CONF.postgresql.port,
                '--username=%s' % CONF.postgresql.root_controller_user, '--no-password',
                '--pgdata=-', '--format=tar', '--wal-method=fetch',
                '--checkpoint=fast', '--no-manifest', '--verbose']

    def _incremental_command(self, workdir, parent_meta):
        first = parent_meta.get('end_wal')
        if not first:
            raise exception.EngineError(detail='the parent backup records no WAL position; '
                                               'take a full backup')
        seg_size = self._seg_size()
        point = 'trove-%s' % uuid.uuid4().hex
        lsn = self._query('SELECT pg_create_restore_point(%s)::text', (point,))
        last = self._query('SELECT pg_walfile_name(%s::pg_lsn)', (lsn,))
        self._query('SELECT pg_switch_wal()::text')
        self._wait_archived(last)
        names = os.listdir(self.paths.wal_archive)
        wanted = wal_range(names, first, last, seg_size)
        wanted += sorted(n for n in names if HISTORY_RE.match(n))
        listing = os.path.join(workdir, 'wal.list')
        with open(listing, 'w') as f:
            f.write(''.join(n + '\n' for n in wanted))
        self._incremental_meta = {'pg_backup': 'wal', 'start_wal': first, 'end_wal': last,
                                  'restore_point': point, 'restore_lsn': lsn,
                                  'wal_files': len(wanted)}
        LOG.info('Incremental: %d WAL files %s..%s, restore point %s', len(wanted), first,
                 last, point)
        return ['tar', '-cf', '-', '-C', self.paths.wal_archive, '-T', listing]

    def _wait_archived(self, name):
        """Wait until the archiver has copied ``name``; fail on its errors."""
        path = os.path.join(self.paths.wal_archive, name)
        deadline = time.monotonic() + CONF.backup.stall_timeout
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                failed = self._query("SELECT coalesce(last_failed_wal, '') "
                                     "FROM pg_stat_archiver")
                raise exception.EngineError(detail='WAL segment %s was not archived in time%s'
                                            % (name, ' (archiving of %s failed)' % failed
                                               if failed else ''))
            time.sleep(0.2)

    def backup_metadata(self, workdir):
        if self._incremental_meta:
            return dict(self._incremental_meta)
        with open(os.path.join(workdir, 'backup.log'), errors='replace') as f:
            start, timeline, end = parse_basebackup_log(f.read())
        start_wal = self._query('SELECT pg_walfile_name(%s::pg_lsn)', (start,))
        end_wal = self._query('SELECT pg_walfile_name(%s::pg_lsn)', (end,))
        self._prune(start_wal)
        return {'pg_backup': 'base', 'start_lsn': start, 'end_lsn': end,
                'timeline': timeline, 'start_wal': start_wal, 'end_wal': end_wal}

    def _prune(self, keep_from):
        archive = self.paths.wal_archive
        with contextlib.suppress(FileNotFoundError):
            doomed = prunable(os.listdir(archive), keep_from)
            for name in doomed:
                os.unlink(os.path.join(archive, name))
            if doomed:
                LOG.info('Pruned %d archived WAL files older than %s', len(doomed), keep_from)

    # -- restore -------------------------------------------------------------
    def restore(self, chain, workdir):
        full_meta = chain[0][0]
        if full_meta.get('pg_backup') != 'base' or any(
                not meta.get('restore_point') for meta, _o, _d in chain[1:]):
            raise exception.EngineError(detail='not a PostgreSQL base backup chain')
        self.install()
        self.engine.app.make_dirs()
        datadir, log = self.paths.datadir, os.path.join(workdir, 'restore.log')
        base.empty_dir(datadir)
        _meta, open_stream, decompress = chain[0]
        base.feed(open_stream(), [decompress, _untar(datadir)], log)
        if self.defer_recovery:
            # The archive holds the WAL of any incremental of the chain too.
            _give_to_engine(datadir, workdir)
            LOG.info('PostgreSQL base backup in place for an archive replay')
            return
        wal_dir = os.path.join(workdir, 'wal')
        os.makedirs(wal_dir)
        for _meta, open_stream, decompress in chain[1:]:
            base.feed(open_stream(), [decompress, _untar(wal_dir)], log)
        target = chain[-1][0].get('restore_point') if len(chain) > 1 else None
        if self.as_replica and len(chain) == 1:
            # Recovering and promoting here would start a new timeline the
            # primary never had (pg_rewind at attach, seconds per GB).  The
            # copy starts as a hot standby instead, consistent once it has
            # replayed the WAL the base backup carries; attach then points
            # it at the primary.
            files.write_file(os.path.join(datadir, 'standby.signal'), '')
            _give_to_engine(datadir, workdir)
            LOG.info('PostgreSQL base backup in place to start as a standby')
            return
        self._recover(workdir, wal_dir, target)
        LOG.info('PostgreSQL recovered to %s', target or 'the end of the base backup')

    def _recover(self, workdir, wal_dir, target, settings=None):
        """Run a private postgres until it has recovered and promoted, then
        stop it; ``settings`` as ``recovery_conf``'s ``target``."""
        paths, admin = self.paths, CONF.postgresql.root_controller_user
        conf = os.path.join(workdir, 'recovery.conf')
        files.write_file(conf, recovery_conf(paths, workdir, wal_dir, target, settings))
        files.write_file(os.path.join(workdir, 'pg_hba.conf'), config.render_hba(admin))
        files.write_file(os.path.join(workdir, 'pg_ident.conf'),
                         config.render_ident(getpass.getuser(), admin))
        files.write_file(os.path.join(paths.datadir, 'recovery.signal'), '')
        _give_to_engine(paths.datadir, workdir)
        server = child.ChildProcess('postgres (recovery)', ('postgres', 'postmaster'),
                                    paths.pid_file, os.path.join(paths.log_dir, 'restore.log'),
                                    stop_signal=signal.SIGINT, keep_stale_pid=True)
        server.spawn([self.engine.app._find('postgres'), '-c', 'config_file=%s' % conf],
                     user=app_mod.ENGINE_USER, cwd=paths.datadir)
        try:
            server.wait_ready(self._promoted, CONF.backup.restore_timeout,
                              lambda: process.tail(server.console_log, 15).strip())
        finally:
            server.terminate(CONF.state_change_wait_time)

    def _promoted(self):
        try:
            with admin_mod.connect(self.paths, timeout=2) as conn:
                return conn.execute('SELECT NOT pg_is_in_recovery()').fetchone()[0]
        except psycopg.Error:
            return False

    def after_restore(self, req):
        """The source's superuser password must not keep working on the copy
        unless a new root password was asked for."""
        if not req.root_password:
            security.disable_root(self.engine.admin)


def _give_to_engine(datadir, workdir):
    """The restored files belong to the engine user, and it may read the WAL."""
    ids = files.engine_ids(app_mod.ENGINE_USER)
    if not ids:
        return
    for top in (datadir, workdir):
        for root, dirs, names in os.walk(top):
            for name in [root] + [os.path.join(root, n) for n in dirs + names]:
                os.lchown(name, *ids)
    files.make_traversable(workdir)
    os.chmod(datadir, 0o700)
