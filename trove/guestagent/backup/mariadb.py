"""mariabackup strategy of the MariaDB (mysql family) engine.

Backup: ``mariabackup --backup --stream=xbstream`` (with ``--incremental-lsn``
= the parent's ``to_lsn`` for an incremental); ``--extra-lsndir`` keeps a
copy of ``xtrabackup_checkpoints`` whose LSNs are recorded beside the
object.  Restore: extract each stream with ``mbstream -x``, ``--prepare`` the
full backup, apply each incremental in order with ``--incremental-dir``
(MariaDB 10.2+ needs no ``--apply-log-only``), then ``--move-back`` into the
empty datadir and hand it to the engine user.
"""
import os
import pwd
import shutil

from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.archive.mariadb import backup_position as archive_position
from trove.guestagent.backup import base
from trove.guestagent.engines import process

LOG = logging.getLogger(__name__)
BINARIES = ('mariabackup', 'mbstream')


def read_checkpoints(path):
    """``xtrabackup_checkpoints`` as a dict (lsn values as ints)."""
    values = {}
    with open(path) as f:
        for line in f:
            key, sep, value = line.partition('=')
            if sep:
                value = value.strip()
                values[key.strip()] = int(value) if value.isdigit() else value
    return values


class MariaBackup(base.BackupStrategy):
    """Hot physical backups of a running mariadbd."""

    name = 'mariabackup'
    stream_format = 'xbstream'

    def install(self):
        process.ensure_packages(BINARIES, CONF.backup.packages)

    def _defaults_file(self, workdir):
        """A private option file: the engine's my.cnf plus the admin login.

        The password goes to a 0600 file, never to the command line.
        """
        path = os.path.join(workdir, 'backup.cnf')
        user = CONF.mariadb.root_controller_user
        password = self.engine.secret.read()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write('!include %s\n' % self.engine.paths.my_cnf)
            for group in ('client', 'mariabackup'):
                f.write('[%s]\nuser = %s\npassword = "%s"\n' % (group, user, password))
        return path

    def backup_command(self, workdir, parent_meta):
        lsn_dir = os.path.join(workdir, 'lsn')
        os.makedirs(lsn_dir, exist_ok=True)
        argv = [process.find_binary('mariabackup'),
                '--defaults-file=%s' % self._defaults_file(workdir),
                '--backup', '--stream=xbstream',
                '--target-dir=%s' % os.path.join(workdir, 'target'),
                '--extra-lsndir=%s' % lsn_dir]
        if parent_meta:
            lsn = parent_meta.get('to_lsn')
            if not lsn:
                raise exception.EngineError(detail='the parent backup has no to_lsn; '
                                                   'take a full backup')
            argv.append('--incremental-lsn=%s' % lsn)
        return argv

    def backup_metadata(self, workdir):
        lsn_dir = os.path.join(workdir, 'lsn')
        points = read_checkpoints(os.path.join(lsn_dir, 'xtrabackup_checkpoints'))
        meta = {'from_lsn': points.get('from_lsn'), 'to_lsn': points.get('to_lsn'),
                'last_lsn': points.get('last_lsn'),
                'mariabackup_type': points.get('backup_type')}
        # Where the binary log continues after this copy: the archive's
        # replay starts there (binlog_file, binlog_position, binlog_gtid).
        meta.update(archive_position(lsn_dir))
        return meta

    def _extract(self, chain, workdir):
        dirs = []
        for index, (_meta, open_stream, decompress) in enumerate(chain):
            target = os.path.join(workdir, '%02d' % index)
            os.makedirs(target)
            base.feed(open_stream(), [decompress, [process.find_binary('mbstream'),
                                                   '-x', '-C', target]],
                      os.path.join(workdir, 'restore.log'))
            dirs.append(target)
        return dirs

    def _mariabackup(self, workdir, *args):
        process.run([process.find_binary('mariabackup'), *args],
                    timeout=CONF.backup.restore_timeout, check=True)
        LOG.info('mariabackup %s done', args[0])

    def restore(self, chain, workdir):
        self.install()
        datadir = self.engine.paths.datadir
        full, *incrementals = self._extract(chain, workdir)
        self._mariabackup(workdir, '--prepare', '--target-dir=%s' % full)
        for inc in incrementals:
            self._mariabackup(workdir, '--prepare', '--target-dir=%s' % full,
                              '--incremental-dir=%s' % inc)
        os.makedirs(datadir, exist_ok=True)
        base.empty_dir(datadir)
        self._mariabackup(workdir, '--move-back', '--target-dir=%s' % full,
                          '--datadir=%s' % datadir)
        if os.geteuid() == 0:
            entry = pwd.getpwnam('mysql')
            for root, dirs, files in os.walk(datadir):
                for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                    os.lchown(name, entry.pw_uid, entry.pw_gid)
        shutil.rmtree(workdir, ignore_errors=True)

    def after_restore(self, req):
        """Remote root of the source must not keep working with its old password.

        root@'%' is the account the user enabled on the source; a restored
        instance starts with it disabled unless a new root password was asked.
        """
        if req.root_password:
            return
        rows = self.engine.admin.execute(
            "SELECT COUNT(*) FROM mysql.user WHERE User = 'root' AND Host = '%%'")
        if rows and rows[0][0]:
            self.engine.admin.execute("DROP USER 'root'@'%%'")
            LOG.info('Dropped root@%% that came with the restored data')
