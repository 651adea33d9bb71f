"""The redis-server process: package, directories, start, stop, state.

redis-server runs in the foreground (daemonize no) as a child of the agent,
as the redis user when the agent is root.  With a pidfile configured it
writes one also in the foreground and removes it on a clean shutdown.
"""
import signal

from trove.conf import CONF
from trove.guestagent.engines import distro_services, process
from trove.guestagent.engines.common import child, files
from trove.guestagent.engines.redis import config

ENGINE_USER = 'redis'
BINARIES = ('redis-server',)


class RedisApp:
    """Lifecycle of one private redis-server."""

    def __init__(self, paths: config.Paths):
        self.paths = paths
        # SIGTERM makes redis save (RDB/AOF) and exit cleanly; while a
        # replica writes its first AOF after a sync it refuses ("Writing
        # initial AOF, can't exit") and forgets the request, so ask again.
        self.child = child.ChildProcess('redis-server', ('redis-server',), paths.pid_file,
                                        paths.console_log, stop_signal=signal.SIGTERM,
                                        resignal_interval=2)

    def install(self):
        """Install the engine package when the binary is missing."""
        process.ensure_packages(BINARIES, CONF.redis.packages,
                                units=distro_services.ENGINE_UNITS['redis'])

    def make_dirs(self):
        p = self.paths
        files.state_dirs(p, (p.datadir, p.run_dir, p.log_dir), ENGINE_USER,
                         private=(p.datadir,))

    def spawn(self):
        """Start redis-server as a child unless it already runs; returns its pid."""
        cmd = [process.find_binary('redis-server'), self.paths.main_conf]
        return self.child.spawn(cmd, user=ENGINE_USER, cwd=self.paths.datadir)

    def major_version(self):
        """Major version of redis-server (0 when unknown)."""
        binary = process.find_binary('redis-server')
        if not binary:
            return 0
        out = process.run([binary, '--version'], check=False).stdout
        for word in out.split():
            if word.startswith('v='):
                major = word[2:].split('.')[0]
                return int(major) if major.isdigit() else 0
        return 0

    def log_tail(self, lines=15):
        return process.tail(self.paths.console_log, lines).strip()
