"""Where the Redis engine keeps its files, and the config files it writes.

redis.conf belongs to the agent: it first includes conf.d (the flavor-sized
template and the configuration-group values) and then pins address, port,
paths, persistence and the password, so the last word is always ours.  It
holds the password, so it is readable only by the engine user.
"""
import os
import re

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines.common import files
from trove.guestagent.engines.common import paths as common_paths

TEMPLATE_FILE = '10-trove.conf'
OVERRIDES_FILE = '20-overrides.conf'
# Replication settings (engines/redis/replication.py); always present,
# since redis-server refuses to start on a missing include.
REPLICATION_FILE = '40-replication.conf'
_OPTION_RE = re.compile(r'^[a-z][a-z0-9-]{0,63}$')
# What the agent pins: a configuration group may not move these.
PINNED = frozenset(('bind', 'port', 'unixsocket', 'unixsocketperm', 'dir', 'pidfile',
                    'logfile', 'daemonize', 'supervised', 'requirepass', 'masterauth',
                    'include', 'rename-command', 'appendfilename', 'dbfilename',
                    'aclfile', 'user'))


class Paths(common_paths.EnginePaths):
    """The engine's files inside the directories of EnginePaths."""

    @property
    def socket(self):
        return os.path.join(self.run_dir, 'redis.sock')

    @property
    def pid_file(self):
        return os.path.join(self.run_dir, 'redis-server.pid')

    @property
    def console_log(self):
        """stdout of the redis-server child: its whole log."""
        return os.path.join(self.log_dir, 'redis-server.log')

    @property
    def main_conf(self):
        return os.path.join(self.state_dir, 'redis.conf')

    @property
    def secret(self):
        """The password clients (and the agent) authenticate with."""
        return os.path.join(self.state_dir, 'redis.secret')

    @property
    def root_marker(self):
        """Present while the user has root (knows the password)."""
        return os.path.join(self.state_dir, 'redis-root.enabled')


def quote(value):
    """A redis.conf argument: booleans as yes/no, text double-quoted."""
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    text = str(value)
    if any(c in text for c in '\r\n\0'):
        raise exception.BadRequest(detail='configuration values must be one line')
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


def option_name(key):
    """A validated option a configuration group may set."""
    name = str(key).strip().lower()
    if not _OPTION_RE.match(name):
        raise exception.BadRequest(detail='invalid configuration option name %r' % key)
    if name in PINNED:
        raise exception.BadRequest(detail='option %s is managed by the agent' % name)
    return name


def render_main(paths: Paths, port: int, address: str, password: str,
                protect: bool = True) -> str:
    """Text of the agent-owned redis.conf; ``protect`` adds the Redis 7
    guards against clients writing files or loading code."""
    lines = ['# Written by the trove guest agent; local changes are overwritten.',
             'include %s' % quote(os.path.join(paths.conf_d, TEMPLATE_FILE)),
             'include %s' % quote(os.path.join(paths.conf_d, OVERRIDES_FILE)),
             'include %s' % quote(os.path.join(paths.conf_d, REPLICATION_FILE)),
             '# Pinned after the includes: these always win.',
             'bind %s' % address, 'port %d' % port,
             'unixsocket %s' % quote(paths.socket), 'unixsocketperm 700',
             'dir %s' % quote(paths.datadir), 'pidfile %s' % quote(paths.pid_file),
             'logfile ""', 'daemonize no', 'supervised no',
             # Both persistence kinds: the AOF loses at most a second of
             # writes, the RDB snapshots make restarts and backups quick.
             'appendonly yes', 'appendfsync everysec',
             'save 3600 1 300 100 60 10000',
             'requirepass %s' % quote(password)]
    if protect:
        # Redis 7+: even with the password, clients may not move dir or
        # dbfilename (writing files elsewhere) nor load modules or DEBUG.
        lines += ['enable-protected-configs no', 'enable-debug-command no',
                  'enable-module-command no']
    return '\n'.join(lines) + '\n'


def render_overrides(overrides: dict) -> str:
    lines = ['# Configuration-group values, written by the trove guest agent.']
    for key in sorted(overrides or {}):
        if overrides[key] is not None:
            lines.append('%s %s' % (option_name(key), quote(overrides[key])))
    return '\n'.join(lines) + '\n'


def write_main(paths: Paths, password: str, owner: str, protect: bool = True):
    """(Re)write redis.conf; 0600 and owned by the engine user (the password)."""
    paths.check_socket()
    replication = os.path.join(paths.conf_d, REPLICATION_FILE)
    if not os.path.exists(replication):
        os.makedirs(paths.conf_d, exist_ok=True)
        files.write_file(replication, '# Not replicating.\n', mode=0o600, owner=owner)
    files.write_file(paths.main_conf, render_main(paths, CONF.redis.port, CONF.host_address,
                                                  password, protect),
                     mode=0o600, owner=owner)


def write_template(paths: Paths, config_contents):
    """Replace the flavor-sized part; an empty one keeps the previous file."""
    files.write_template(os.path.join(paths.conf_d, TEMPLATE_FILE), config_contents)


def write_overrides(paths: Paths, overrides):
    files.write_file(os.path.join(paths.conf_d, OVERRIDES_FILE), render_overrides(overrides))
