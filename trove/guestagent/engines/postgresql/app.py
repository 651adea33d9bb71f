"""The postgres server process: packages, initdb, start, stop, state.

Debian keeps the binaries in /usr/lib/postgresql/<version>/bin, off PATH;
the version the instance asked for is preferred, else the newest one.
PostgreSQL refuses to run as root, so when the agent is root the cluster
belongs to the postgres user and initdb and the server run as that user.
"""
import glob
import os
import shutil
import signal

from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines import distro_services, process
from trove.guestagent.engines.common import child, files
from trove.guestagent.engines.postgresql import config

LOG = logging.getLogger(__name__)
ENGINE_USER = 'postgres'
BINARIES = ('initdb', 'postgres')
DEBIAN_BIN_GLOB = '/usr/lib/postgresql/*/bin'


def _version_key(path):
    """Sort key of a Debian bin dir by its numeric version ('9.6' < '15')."""
    version = os.path.basename(os.path.dirname(path))
    return tuple(int(p) if p.isdigit() else 0 for p in version.split('.'))


def bin_dirs(preferred_version=None):
    """Debian's versioned bin dirs, the preferred version first, then newest first."""
    dirs = sorted(glob.glob(DEBIAN_BIN_GLOB), key=_version_key, reverse=True)
    if preferred_version:
        major = str(preferred_version).split('.')[0]
        dirs.sort(key=lambda d: os.path.basename(os.path.dirname(d)) not in
                  (str(preferred_version), major))
    return dirs


def find(name, preferred_version=None):
    """Full path of PostgreSQL program ``name`` or None."""
    for d in bin_dirs(preferred_version):
        candidate = os.path.join(d, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return process.find_binary(name)


class PostgresApp:
    """Lifecycle of one private PostgreSQL cluster."""

    def __init__(self, paths: config.Paths, version=None):
        self.paths = paths
        self.version = version
        # SIGINT is PostgreSQL's "fast" shutdown: SIGTERM ("smart") would
        # wait for every client to disconnect.  postgres judges a stale
        # postmaster.pid itself (it also guards the shared memory).
        self.child = child.ChildProcess('postgres', ('postgres', 'postmaster'),
                                        paths.pid_file, paths.console_log,
                                        stop_signal=signal.SIGINT, keep_stale_pid=True)

    def _find(self, name):
        return find(name, self.version)

    def install(self):
        """Install the engine packages when the binaries are missing."""
        process.ensure_packages(BINARIES, CONF.postgresql.packages, finder=self._find,
                                units=distro_services.ENGINE_UNITS['postgresql'])

    def make_dirs(self):
        """Create the data (0700, as postgres demands), run and log dirs."""
        p = self.paths
        files.state_dirs(p, (p.datadir, p.run_dir, p.log_dir, p.wal_archive), ENGINE_USER,
                         private=(p.datadir, p.wal_archive))

    def initialized(self):
        return os.path.exists(os.path.join(self.paths.datadir, 'PG_VERSION'))

    def initialize(self):
        """initdb once, with the internal admin as the bootstrap superuser."""
        if self.initialized():
            LOG.info('Cluster %s already initialised', self.paths.datadir)
            return
        cmd = [self._find('initdb'), '--pgdata=%s' % self.paths.datadir,
               '--username=%s' % CONF.postgresql.root_controller_user,
               '--encoding=UTF8', '--no-locale', '--auth-local=peer',
               '--auth-host=scram-sha-256']
        LOG.info('Initialising cluster %s', self.paths.datadir)
        try:
            process.run(cmd, timeout=max(CONF.state_change_wait_time, 120),
                        ids=files.engine_ids(ENGINE_USER), cwd=self.paths.datadir)
        except exception.ProcessExecutionError:
            # initdb wants an empty directory: clear a half-made cluster.
            for entry in os.listdir(self.paths.datadir):
                path = os.path.join(self.paths.datadir, entry)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
            raise

    def spawn(self):
        """Start postgres as a child unless it already runs; returns its pid."""
        cmd = [self._find('postgres'), '-c', 'config_file=%s' % self.paths.main_conf]
        return self.child.spawn(cmd, user=ENGINE_USER, cwd=self.paths.datadir)

    def log_tail(self, lines=15):
        """Recent server log lines for error messages."""
        return process.tail(self.paths.console_log, lines).strip()
