"""RDB snapshot strategy of the Redis engine (full backups only).

Backup: wait for any running BGSAVE, start one (``BGSAVE SCHEDULE`` waits
for a running AOF rewrite instead of failing), wait until ``rdb_saves``
has grown and the save succeeded, then stream the snapshot file (``dir`` /
``dbfilename`` as the server reports them) with ``cat``.  A later automatic
save replaces the file by a rename, so the open file stays one consistent
snapshot.  ``redis-cli --rdb -`` is not used: it appends an end marker to
stdout.

Restore: the RDB is written to the empty datadir and checked with
``redis-check-rdb`` when present.  The engine runs with ``appendonly yes``,
and then Redis loads only the AOF and ignores dump.rdb, so the snapshot is
also laid out as the AOF: Redis 7 takes an RDB file as the base of its
multi-part AOF (``appendonlydir/appendonly.aof.1.base.rdb`` named in
``appendonly.aof.manifest``; the server adds the incr file itself), and
Redis 6 reads an ``appendonly.aof`` that starts with an RDB preamble.
"""
import os
import time

from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.backup import base
from trove.guestagent.engines import process
from trove.guestagent.engines.common import files
from trove.guestagent.engines.redis import app as app_mod

LOG = logging.getLogger(__name__)
AOF_NAME = 'appendonly.aof'
AOF_DIR = 'appendonlydir'
RDB_NAME = 'dump.rdb'


def aof_layout(major):
    """{relative path: None (the RDB) or text} of the AOF files for ``major``."""
    if major and major < 7:
        return {AOF_NAME: None}
    base_name = '%s.1.base.rdb' % AOF_NAME
    return {os.path.join(AOF_DIR, base_name): None,
            os.path.join(AOF_DIR, '%s.manifest' % AOF_NAME):
                'file %s seq 1 type b\n' % base_name}


class RedisRDB(base.BackupStrategy):
    """Point-in-time RDB snapshots of a running redis-server."""

    name = 'redis-rdb'
    stream_format = 'rdb'

    def install(self):
        self.engine.app.install()

    def _wait_saves(self, cli, done, what):
        deadline = time.monotonic() + CONF.backup.stall_timeout
        while True:
            info = cli.info('persistence')
            if done(info):
                return info
            if time.monotonic() > deadline:
                raise exception.EngineError(detail='Redis %s took longer than %ss'
                                            % (what, CONF.backup.stall_timeout))
            time.sleep(0.1)

    def snapshot(self):
        """Take a fresh RDB snapshot; returns its path."""
        with self.engine.client(timeout=30) as cli:
            self._wait_saves(cli, lambda i: not i['rdb_bgsave_in_progress'],
                             'running snapshot')
            before = cli.info('persistence')['rdb_saves']
            cli.execute_command('BGSAVE', 'SCHEDULE')
            info = self._wait_saves(cli, lambda i: i['rdb_saves'] > before and
                                    not i['rdb_bgsave_in_progress'], 'snapshot')
            if info['rdb_last_bgsave_status'] != 'ok':
                raise exception.EngineError(detail='Redis BGSAVE failed: %s'
                                            % self.engine.app.log_tail(3))
            directory = cli.config_get('dir')['dir']
            name = cli.config_get('dbfilename')['dbfilename']
        return os.path.join(directory, name)

    def backup_command(self, workdir, parent_meta):
        if parent_meta:
            raise exception.EngineError(detail='Redis backups are full backups only')
        return ['cat', self.snapshot()]

    def backup_metadata(self, workdir):
        return {'redis_major': self.engine.app.major_version()}

    def restore(self, chain, workdir):
        if len(chain) != 1:
            raise exception.EngineError(detail='Redis backups have no incrementals')
        self.install()
        self.engine.app.make_dirs()
        datadir = self.engine.paths.datadir
        base.empty_dir(datadir)
        _meta, open_stream, decompress = chain[0]
        rdb = os.path.join(workdir, RDB_NAME)
        base.feed(open_stream(), [decompress, ['dd', 'of=%s' % rdb, 'bs=1M', 'status=none']],
                  os.path.join(workdir, 'restore.log'))
        self._check(rdb)
        written = [RDB_NAME]
        for relative, text in aof_layout(self.engine.app.major_version()).items():
            os.makedirs(os.path.dirname(os.path.join(datadir, relative)), exist_ok=True)
            if text is None:
                _copy(rdb, os.path.join(datadir, relative))
            else:
                files.write_file(os.path.join(datadir, relative), text, mode=0o600)
            written.append(relative)
        _copy(rdb, os.path.join(datadir, RDB_NAME))
        _give_to_engine(datadir)
        LOG.info('Redis data restored: %s', ', '.join(written))

    @staticmethod
    def _check(rdb):
        with open(rdb, 'rb') as f:
            if f.read(5) != b'REDIS':
                raise exception.EngineError(detail='the backup is not an RDB file')
        checker = process.find_binary('redis-check-rdb')
        if checker:
            result = process.run([checker, rdb], check=False)
            if result.returncode != 0:
                last = (result.stdout.strip().splitlines() or ['no output'])[-1]
                raise exception.EngineError(detail='redis-check-rdb rejected the backup: %s'
                                            % last)


def _copy(src, dst):
    with open(src, 'rb') as fin, open(dst, 'wb') as fout:
        while True:
            chunk = fin.read(base.CHUNK)
            if not chunk:
                break
            fout.write(chunk)
    os.chmod(dst, 0o600)


def _give_to_engine(datadir):
    ids = files.engine_ids(app_mod.ENGINE_USER)
    if not ids:
        return
    for root, dirs, names in os.walk(datadir):
        for name in [root] + [os.path.join(root, n) for n in dirs + names]:
            os.lchown(name, *ids)
