"""The mariadbd process: packages, datadir initialisation, start, stop, state.

mariadbd runs as a plain child of the agent (no new session): the local
compute driver ends a server by killing its whole session, and the engine
must go with it.  After an agent restart the pid file tells whether an
engine from the previous agent still lives.
"""
import os
import shutil

from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines import distro_services, process
from trove.guestagent.engines.common import child, files
from trove.guestagent.engines.mysql import config

LOG = logging.getLogger(__name__)
ENGINE_USER = 'mysql'
BINARIES = ('mariadbd', 'mariadb-install-db')


class MariaDBApp:
    """Lifecycle of one private mariadbd."""

    def __init__(self, paths: config.Paths):
        self.paths = paths
        # mariadbd removes its pid file on a clean shutdown and shuts down
        # cleanly on SIGTERM.
        self.child = child.ChildProcess('mariadbd', ('mariadbd', 'mysqld'),
                                        paths.pid_file, paths.console_log)

    # -- installation and initialisation -------------------------------
    def install(self):
        """Install the engine packages when the binaries are missing."""
        process.ensure_packages(BINARIES, CONF.mariadb.packages,
                                units=distro_services.ENGINE_UNITS['mariadb'])

    def make_dirs(self):
        """Create datadir, run and log dirs owned by the engine user."""
        p = self.paths
        files.state_dirs(p, (p.datadir, p.run_dir, p.log_dir, p.tmp_dir), ENGINE_USER)
        if files.is_root():
            os.chmod(p.datadir, 0o750)

    def initialized(self):
        """Whether the datadir already holds system tables."""
        return os.path.isdir(os.path.join(self.paths.datadir, 'mysql'))

    @property
    def warm_dir(self):
        return self.paths.datadir + '.warm'

    def prewarm(self):
        """Initialise a spare datadir before prepare arrives (agent boot).

        System tables do not depend on the prepare request, so building them
        while the agent connects to the broker and waits for ``prepare``
        takes install-db off the critical path.  The spare sits beside the
        datadir and is only moved in by initialize(); a restore from backup
        never sees it.
        """
        if self.initialized() or os.path.exists(self.warm_dir + '.done'):
            return
        shutil.rmtree(self.warm_dir, ignore_errors=True)
        os.makedirs(os.path.dirname(self.warm_dir), exist_ok=True)
        files.state_dirs(self.paths, (self.paths.tmp_dir,), ENGINE_USER)
        cmd = [process.find_binary('mariadb-install-db'), '--no-defaults',
               '--datadir=%s' % self.warm_dir, '--tmpdir=%s' % self.paths.tmp_dir,
               '--auth-root-authentication-method=socket', '--skip-test-db']
        if files.is_root():
            files.make_traversable(os.path.dirname(self.warm_dir))
            cmd += ['--user=%s' % ENGINE_USER, '--auth-root-socket-user=root']
        LOG.info('Pre-initialising a datadir at %s', self.warm_dir)
        process.run(cmd, timeout=max(CONF.state_change_wait_time, 120))
        with open(self.warm_dir + '.done', 'w') as f:
            f.write('done\n')

    def _adopt_warm(self):
        """Move a finished spare datadir into place; True when it was used."""
        if not os.path.exists(self.warm_dir + '.done'):
            return False
        if os.path.isdir(self.paths.datadir) and os.listdir(self.paths.datadir):
            return False
        os.rename(self.warm_dir, self.paths.datadir)  # replaces an empty datadir
        os.remove(self.warm_dir + '.done')
        if files.is_root():
            os.chmod(self.paths.datadir, 0o750)
        LOG.info('Using the pre-initialised datadir')
        return True

    def _drop_warm(self):
        shutil.rmtree(self.warm_dir, ignore_errors=True)
        if os.path.exists(self.warm_dir + '.done'):
            os.remove(self.warm_dir + '.done')

    def initialize(self):
        """Create the system tables once; root may log in only via the socket."""
        if self.initialized():
            LOG.info('Datadir %s already initialised', self.paths.datadir)
            self._drop_warm()
            return
        if self._adopt_warm():
            return
        self._drop_warm()
        cmd = [process.find_binary('mariadb-install-db'),
               '--defaults-file=%s' % self.paths.my_cnf,
               '--datadir=%s' % self.paths.datadir,
               '--auth-root-authentication-method=socket', '--skip-test-db']
        if files.is_root():
            cmd += ['--user=%s' % ENGINE_USER, '--auth-root-socket-user=root']
        LOG.info('Initialising datadir %s', self.paths.datadir)
        try:
            process.run(cmd, timeout=max(CONF.state_change_wait_time, 120))
        except exception.ProcessExecutionError:
            # A half-made datadir would pass initialized() next time.
            shutil.rmtree(os.path.join(self.paths.datadir, 'mysql'), ignore_errors=True)
            raise

    # -- process state ---------------------------------------------------
    def running_pid(self):
        """Pid of our live mariadbd, or None."""
        return self.child.running_pid()

    # -- start / stop ------------------------------------------------------
    def spawn(self):
        """Start mariadbd as a child unless one already runs; returns its pid."""
        cmd = [process.find_binary('mariadbd'), '--defaults-file=%s' % self.paths.my_cnf]
        if files.is_root():
            # mariadbd drops to the mysql user itself.
            cmd.append('--user=%s' % ENGINE_USER)
        return self.child.spawn(cmd)

    def log_tail(self, lines=15):
        """Recent engine log lines for error messages (the engine logs no secrets)."""
        text = process.tail(self.paths.error_log, lines) or process.tail(
            self.paths.console_log, lines)
        return text.strip()
