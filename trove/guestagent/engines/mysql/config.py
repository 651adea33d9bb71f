"""Where the MariaDB engine keeps its files, and the config files it writes.

The main my.cnf is owned by the agent: it pins the private paths, port and
bind address so the engine never meets a system-wide MariaDB, then includes
conf.d where the flavor-sized template (10-trove.cnf) and user overrides
(20-overrides.cnf) live.
"""
import ipaddress
import os
import zlib

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines.common import files
from trove.guestagent.engines.common import paths as common_paths


class Paths(common_paths.EnginePaths):
    """The engine's files inside the directories of EnginePaths."""

    @property
    def socket(self):
        return os.path.join(self.run_dir, 'mariadbd.sock')

    @property
    def pid_file(self):
        return os.path.join(self.run_dir, 'mariadbd.pid')

    @property
    def error_log(self):
        return os.path.join(self.log_dir, 'mariadbd.err')

    @property
    def console_log(self):
        """stdout/stderr of the mariadbd child (early failures land here)."""
        return os.path.join(self.log_dir, 'mariadbd.out')

    @property
    def tmp_dir(self):
        """The engine's own tmpdir.  mariadbd deletes every ``#sql*`` file in
        its tmpdir when it starts, and install-db keeps its bootstrap
        tables there: engines sharing /tmp destroy each other's work."""
        return os.path.join(self.state_dir, 'tmp')

    @property
    def my_cnf(self):
        return os.path.join(self.state_dir, 'my.cnf')

    @property
    def admin_secret(self):
        return os.path.join(self.state_dir, 'mariadb-admin.secret')


def server_id(bind_address: str) -> int:
    """A replication server id unique within a replica set: the IPv4 address
    as a number (members of one set never share an address), a CRC of
    anything else; never 0, which disables replication."""
    try:
        addr = ipaddress.ip_address(bind_address)
        value = int(addr) if addr.version == 4 else zlib.crc32(addr.packed)
    except ValueError:
        value = zlib.crc32(str(bind_address).encode())
    return value % 4294967295 or 1


def render_my_cnf(paths: Paths, port: int, bind_address: str) -> str:
    """Text of the agent-owned my.cnf.

    Every instance writes a GTID binlog and has its own server id, so any
    one can become a primary or a replica without a restart; a replica
    logs what it applies (log-slave-updates) so it can be promoted.
    """
    lines = [
        '# Written by the trove guest agent; local changes are overwritten.',
        '[mysqld]',
        'datadir = %s' % paths.datadir,
        'socket = %s' % paths.socket,
        'pid-file = %s' % paths.pid_file,
        'tmpdir = %s' % paths.tmp_dir,
        'port = %d' % port,
        'bind-address = %s' % bind_address,
        'log-error = %s' % paths.error_log,
        'skip-name-resolve',
        'server-id = %d' % server_id(bind_address),
        'log-bin = mysql-bin',
        'relay-log = relay-bin',
        'log-slave-updates',
        'binlog-format = ROW',
        'expire-logs-days = 7',
        # A dead primary shows as a broken stream within seconds, not minutes.
        'slave-net-timeout = 20',
        '',
        '[client]',
        'socket = %s' % paths.socket,
        '',
        '!includedir %s' % paths.conf_d,
        '',
    ]
    return '\n'.join(lines)


def render_overrides(overrides: dict) -> str:
    """conf.d/20-overrides.cnf from an option -> value dict."""
    lines = ['[mysqld]']
    for key in sorted(overrides or {}):
        value = overrides[key]
        key = str(key).strip()
        # One option per line: a newline in a key or value would let a
        # caller smuggle in arbitrary options or sections.
        if not key or any(c in key + str(value) for c in '\r\n[]'):
            raise exception.BadRequest(detail='invalid configuration override %r' % key)
        if value is True:
            lines.append(key)
        else:
            if isinstance(value, bool):
                value = int(value)
            lines.append('%s = %s' % (key, value))
    return '\n'.join(lines) + '\n'


# conf.d parts: the flavor-sized template and the configuration-group values.
TEMPLATE_FILE = '10-trove.cnf'
OVERRIDES_FILE = '20-overrides.cnf'


def write_config(paths: Paths, config_contents, overrides):
    """Write my.cnf and conf.d; an empty template part keeps the previous one."""
    paths.check_socket()
    os.makedirs(paths.conf_d, exist_ok=True)
    files.write_file(paths.my_cnf, render_my_cnf(paths, CONF.mariadb.port, CONF.host_address))
    files.write_template(os.path.join(paths.conf_d, TEMPLATE_FILE), config_contents)
    files.write_file(os.path.join(paths.conf_d, OVERRIDES_FILE), render_overrides(overrides))
