"""Where the PostgreSQL engine keeps its files, and the config files it writes.

The agent owns postgresql.conf, pg_hba.conf and pg_ident.conf in the guest
state dir.  postgresql.conf first includes conf.d (the flavor-sized template
10-trove.conf and the configuration-group values 20-overrides.conf) and then
pins the private paths, address and port, so neither can move the engine
away from its own data, socket or address.
"""
import getpass
import json
import os
import re
import shlex

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines.common import files, tls_files
from trove.guestagent.engines.common import paths as common_paths

TEMPLATE_FILE = '10-trove.conf'
OVERRIDES_FILE = '20-overrides.conf'
# Standby settings and the read-only switch (engines/postgresql/replication.py).
REPLICATION_FILE = '40-replication.conf'
REPLICATION_HBA_FILE = 'replication-hba.json'
# ssl and its files (engines/postgresql/tls.py).
TLS_FILE = '30-tls.conf'
_OPTION_RE = re.compile(r'^[a-z][a-z0-9_.]{0,63}$')


class Paths(common_paths.EnginePaths):
    """The engine's files inside the directories of EnginePaths."""

    @property
    def socket(self):
        """The socket file the server creates in ``run_dir``."""
        return os.path.join(self.run_dir, '.s.PGSQL.%d' % CONF.postgresql.port)

    @property
    def pid_file(self):
        return os.path.join(self.datadir, 'postmaster.pid')

    @property
    def console_log(self):
        """stderr of the postgres child: its whole server log."""
        return os.path.join(self.log_dir, 'postgresql.log')

    @property
    def main_conf(self):
        return os.path.join(self.state_dir, 'postgresql.conf')

    @property
    def hba_file(self):
        return os.path.join(self.state_dir, 'pg_hba.conf')

    @property
    def ident_file(self):
        return os.path.join(self.state_dir, 'pg_ident.conf')

    @property
    def wal_archive(self):
        """Archived WAL segments on the volume: incremental backups ship them."""
        return os.path.join(os.path.dirname(self.datadir), 'wal_archive')


def quote(value):
    """A postgresql.conf value: booleans as on/off, numbers bare, text quoted."""
    if isinstance(value, bool):
        return 'on' if value else 'off'
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if any(c in text for c in '\r\n\0'):
        raise exception.BadRequest(detail='configuration values must be one line')
    return "'%s'" % text.replace('\\', '\\\\').replace("'", "''")


def option_name(key):
    """Validated option name (lower case, as PostgreSQL treats them)."""
    name = str(key).strip().lower()
    if not _OPTION_RE.match(name):
        raise exception.BadRequest(detail='invalid configuration option name %r' % key)
    return name


def render_main(paths: Paths, port: int, address: str) -> str:
    """Text of the agent-owned postgresql.conf."""
    lines = ['# Written by the trove guest agent; local changes are overwritten.',
             "include_if_exists '%s'" % os.path.join(paths.conf_d, TEMPLATE_FILE),
             "include_if_exists '%s'" % os.path.join(paths.conf_d, OVERRIDES_FILE),
             "include_if_exists '%s'" % os.path.join(paths.conf_d, REPLICATION_FILE),
             "include_if_exists '%s'" % os.path.join(paths.conf_d, TLS_FILE),
             '# Pinned after the includes: these always win.']
    pinned = {'data_directory': paths.datadir, 'hba_file': paths.hba_file,
              'ident_file': paths.ident_file, 'listen_addresses': address, 'port': port,
              'unix_socket_directories': paths.run_dir,
              # Only the engine's OS user (and root, the agent) may use the socket.
              'unix_socket_permissions': '0700', 'logging_collector': False,
              'log_destination': 'stderr',
              # Incremental backups ship the WAL archived since their parent
              # (see trove.guestagent.backup.postgresql).
              'archive_mode': True, 'archive_command': archive_command(paths.wal_archive),
              # pg_rewind (demote, attach of a restored copy) needs it.
              'wal_log_hints': True, 'hot_standby': True}
    lines += ['%s = %s' % (k, quote(v)) for k, v in pinned.items()]
    return '\n'.join(lines) + '\n'


def archive_command(archive_dir: str) -> str:
    """Copy a finished segment into ``archive_dir`` under a temporary name and
    rename it, so a reader never sees half a segment; a segment archived
    before (a retry after a crash) succeeds only when identical."""
    target = '%s/%%f' % shlex.quote(archive_dir)
    return (f'if test -f {target}; then cmp -s %p {target}; '
            f'else cp %p {target}.tmp && mv {target}.tmp {target}; fi')


def render_hba(admin_user: str, replication=(), tls_mode=None) -> str:
    """pg_hba.conf: the admin only by peer over the socket, everyone else by
    SCRAM password over TCP; ``replication`` is ``[(user, cidr)]`` allowed
    to stream WAL (replicas of this instance).

    ``tls_mode`` enforced refuses TCP without TLS; mtls also authenticates
    users by a client certificate whose CN is their name (``cert``), where
    a password alone does not do.  Replicas stream over TLS with their
    password in both (their sslmode ``prefer`` takes TLS when offered).
    """
    host = 'host'
    users = ['host    all   all   all   scram-sha-256']
    if tls_mode in ('enforced', 'mtls'):
        host = 'hostssl'
        users = ['hostnossl   all   all   all   reject',
                 'hostssl   all   all   all   %s' % (
                     'cert' if tls_mode == 'mtls' else 'scram-sha-256')]
    streaming = ['%s    replication   %s   %s   scram-sha-256' % (host, user, cidr)
                 for user, cidr in replication]
    return '\n'.join([
        '# Written by the trove guest agent; local changes are overwritten.',
        '# TYPE  DATABASE  USER  ADDRESS  METHOD',
        'local   all   %s   peer map=trove' % admin_user,
        # pg_basebackup (backups) as the admin, over the socket only.
        'local   replication   %s   peer map=trove' % admin_user,
        'local   all   all   reject',
        'host    all   %s   all   reject' % admin_user,
        *users,
        *streaming,
        ''])


def replication_hba(paths: Paths) -> list:
    """The persisted ``[(user, cidr)]`` of replication access ([] when none)."""
    try:
        with open(os.path.join(paths.state_dir, REPLICATION_HBA_FILE)) as f:
            return [tuple(entry) for entry in json.load(f)]
    except FileNotFoundError:
        return []


def write_hba(paths: Paths, replication=None):
    """Write pg_hba.conf; ``replication`` (persisted) replaces the stored entries."""
    if replication is not None:
        files.write_file(os.path.join(paths.state_dir, REPLICATION_HBA_FILE),
                         json.dumps(sorted(set(replication))))
    files.write_file(paths.hba_file, render_hba(CONF.postgresql.root_controller_user,
                                                replication_hba(paths), tls_mode(paths)))


def tls_mode(paths: Paths):
    """The TLS mode in force (None when off), from the TLS state file."""
    current = tls_files.TlsStore(paths.volume_dir, None).current()
    return current['mode'] if current else None


def render_ident(os_user: str, admin_user: str) -> str:
    """pg_ident.conf: the agent's OS user may act as the admin role."""
    return 'trove   %s   %s\n' % (os_user, admin_user)


def render_overrides(overrides: dict) -> str:
    """conf.d/20-overrides.conf from an option -> value dict (None = unset)."""
    lines = ['# Configuration-group values, written by the trove guest agent.']
    for key in sorted(overrides or {}):
        if overrides[key] is not None:
            lines.append('%s = %s' % (option_name(key), quote(overrides[key])))
    return '\n'.join(lines) + '\n'


def write_template(paths: Paths, config_contents):
    """Replace the flavor-sized part; an empty one keeps the previous file."""
    files.write_template(os.path.join(paths.conf_d, TEMPLATE_FILE), config_contents)


def write_overrides(paths: Paths, overrides):
    files.write_file(os.path.join(paths.conf_d, OVERRIDES_FILE), render_overrides(overrides))


def write_config(paths: Paths, config_contents, overrides):
    """Write every config file of the engine."""
    paths.check_socket()
    os.makedirs(paths.conf_d, exist_ok=True)
    admin = CONF.postgresql.root_controller_user
    files.write_file(paths.main_conf, render_main(paths, CONF.postgresql.port,
                                                  CONF.host_address))
    write_hba(paths)
    files.write_file(paths.ident_file, render_ident(getpass.getuser(), admin))
    write_template(paths, config_contents)
    write_overrides(paths, overrides)
