"""PostgreSQL streaming replication behind the engine replication interface.

A replica is a hot standby: ``standby.signal`` in the datadir and
``primary_conninfo`` / ``primary_slot_name`` in conf.d/40-replication.conf
(included by the agent's postgresql.conf).  The replication password lives
only in a 0600 passfile of the guest state dir that the conninfo names, so
it never appears in a config value, a command line or pg_stat_wal_receiver.

Attach and demote are one operation: stop, ``pg_rewind`` from the primary,
standby config, start.  pg_rewind brings a restored backup (which the
restore promoted onto a timeline of its own) or an old primary (with writes
the new primary never saw) back onto the primary's history, copying only
what differs; it is a no-op when the datadir is simply behind.

Positions are ``{'lsn': 'X/Y'}``, ordered as 64-bit numbers.
"""
import ipaddress
import os
import re
import shlex
import shutil

from oslo_log import log as logging
from psycopg import sql

from trove.common import exception
from trove.common import positions
from trove.conf import CONF
from trove.guestagent.engines import process
from trove.guestagent.engines import replication as base
from trove.guestagent.engines.common import files
from trove.guestagent.engines.postgresql import app as app_mod
from trove.guestagent.engines.postgresql import config, names, scram

LOG = logging.getLogger(__name__)
PASSFILE = 'replication.pgpass'
_SLOT_RE = re.compile(r'^[a-z0-9_]{1,63}$')
# Functions a non-superuser needs for pg_rewind (PostgreSQL documentation).
REWIND_FUNCTIONS = ('pg_ls_dir(text, boolean, boolean)', 'pg_stat_file(text, boolean)',
                    'pg_read_binary_file(text)',
                    'pg_read_binary_file(text, bigint, bigint, boolean)')
PROMOTE_TIMEOUT = 60
DEFAULT_REPLICA_CIDR = '127.0.0.0/8'  # the local compute driver's loopback range


def slot_name(name):
    """A valid physical slot name (lower case letters, digits, underscores)."""
    if not isinstance(name, str) or not _SLOT_RE.match(name):
        raise exception.BadRequest(detail='invalid replication slot name %r' % (name,))
    return name


def cidr_of(host):
    """pg_hba address of a replica: ``host/32`` (or /128), a CIDR as given,
    or the loopback range when None or a loopback address (a client on
    127.x.y.z connects from 127.0.0.1 whatever address it serves on)."""
    if not host:
        return DEFAULT_REPLICA_CIDR
    try:
        network = ipaddress.ip_network(host, strict=False)
    except ValueError:
        raise exception.BadRequest(detail='invalid replica address %r' % (host,))
    if network.is_loopback:
        return DEFAULT_REPLICA_CIDR if network.version == 4 else '::1/128'
    return str(network)


def pgpass_line(user, password):
    """A passfile line for any host: ``:`` and ``\\`` escaped as libpq wants."""
    def esc(value):
        return value.replace('\\', '\\\\').replace(':', '\\:')
    return '*:*:*:%s:%s\n' % (esc(user), esc(password))


def render_replication_conf(passfile, following=None, slot=None, read_only=False,
                            application_name='trove', synchronous=False):
    """conf.d/40-replication.conf; ``following`` is ``(host, port, user)``;
    ``synchronous``: while primary, a commit waits until any one standby has
    flushed it (``ANY 1 (*)``)."""
    lines = ['# Replication settings, written by the trove guest agent.',
             'default_transaction_read_only = %s' % ('on' if read_only else 'off')]
    if synchronous:
        lines += ["synchronous_standby_names = 'ANY 1 (*)'", 'synchronous_commit = on']
    if following:
        host, port, user = following
        conninfo = ('host=%s port=%d user=%s passfile=%s application_name=%s '
                    'connect_timeout=5' % (host, port, user, passfile, application_name))
        lines.append('primary_conninfo = %s' % config.quote(conninfo))
        if slot:
            lines.append('primary_slot_name = %s' % config.quote(slot_name(slot)))
    return '\n'.join(lines) + '\n'


class PostgreSQLReplication(base.Replication):
    """Streaming replication of one PostgreSQL engine."""

    @property
    def _paths(self):
        return self.engine.paths

    def _one(self, query, args=None):
        rows = self.engine.admin.execute(query, args)
        return rows[0][0] if rows else None

    def _in_recovery(self):
        return bool(self._one('SELECT pg_is_in_recovery()'))

    # -- persisted state ------------------------------------------------------
    def _save(self, **changes):
        state = self._store_state(**changes)
        following = state.get('following')
        text = render_replication_conf(
            os.path.join(self._paths.state_dir, PASSFILE),
            following=tuple(following) if following else None, slot=state.get('slot'),
            read_only=state.get('read_only', False),
            application_name=CONF.guest_id or 'trove',
            synchronous=bool(state.get('synchronous')))
        os.makedirs(self._paths.conf_d, exist_ok=True)
        files.write_file(os.path.join(self._paths.conf_d, config.REPLICATION_FILE), text)

    def set_synchronous(self, enabled, timeout):
        """``synchronous_standby_names`` in conf.d, reloaded (a standby keeps it
        for when it is promoted).  PostgreSQL has no fallback: while no
        standby answers, commits wait (``timeout`` is not used)."""
        self._save(synchronous=bool(enabled))
        self._one('SELECT pg_reload_conf()')
        LOG.info('Synchronous replication %s', 'on' if enabled else 'off')

    # -- primary side ---------------------------------------------------------
    def ensure_replication_user(self, user, password, replica_host=None):
        """A LOGIN REPLICATION role (plus what pg_rewind reads) and a pg_hba
        line for ``replica_host`` (the loopback range when None)."""
        user = names.user_name(user)
        base.check_secret(password)
        verb = 'ALTER' if self._one('SELECT 1 FROM pg_roles WHERE rolname = %s',
                                    (user,)) else 'CREATE'
        self.engine.admin.execute(sql.SQL(
            '%s ROLE {} WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE '
            'PASSWORD {}' % verb).format(sql.Identifier(user),
                                         sql.Literal(scram.verifier(password))))
        for function in REWIND_FUNCTIONS:
            self.engine.admin.execute(sql.SQL(
                'GRANT EXECUTE ON FUNCTION pg_catalog.%s TO {}' % function).format(
                    sql.Identifier(user)))
        entries = set(config.replication_hba(self._paths))
        entries.add((user, cidr_of(replica_host)))
        config.write_hba(self._paths, sorted(entries))
        self._one('SELECT pg_reload_conf()')
        LOG.info('Replication role %s is ready', user)

    def snapshot_position(self):
        return {'lsn': self._one('SELECT pg_current_wal_lsn()::text')}

    def create_slot(self, name):
        """A physical slot reserving WAL from now on (idempotent)."""
        name = slot_name(name)
        if not self._one('SELECT 1 FROM pg_replication_slots WHERE slot_name = %s', (name,)):
            self._one('SELECT pg_create_physical_replication_slot(%s, true)::text', (name,))
            LOG.info('Created replication slot %s', name)

    def drop_slot(self, name):
        """Drop slot ``name`` if it exists (ending a stream that still uses it)."""
        name = slot_name(name)
        pid = self._one('SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s',
                        (name,))
        if pid:
            self._one('SELECT pg_terminate_backend(%s)', (pid,))
        if self._one('SELECT 1 FROM pg_replication_slots WHERE slot_name = %s', (name,)):
            process.wait_for(lambda: not self._one(
                'SELECT active FROM pg_replication_slots WHERE slot_name = %s', (name,)), 10)
            self._one('SELECT pg_drop_replication_slot(%s)::text', (name,))
            LOG.info('Dropped replication slot %s', name)

    def set_read_only(self, read_only):
        """default_transaction_read_only, reloaded, and client sessions ended
        so none keeps writing with the old default."""
        self._save(read_only=bool(read_only))
        self._one('SELECT pg_reload_conf()')
        if read_only and not self._in_recovery():
            self.engine.admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
                "AND usename <> %s", (CONF.postgresql.root_controller_user,))
        LOG.info('default_transaction_read_only is now %s', 'on' if read_only else 'off')

    # -- replica side ---------------------------------------------------------
    def attach(self, primary_host, primary_port, user, password, position=None,
               slot=None):
        """Follow the primary (``position`` is not needed: the WAL says where
        to go).  A replica's snapshot restored as a standby is pointed at it
        with a reload; any other copy is rewound onto its history first."""
        if self._state().get('following') is None and self._in_recovery():
            if self._point_standby(primary_host, primary_port, user, password, slot):
                return
            LOG.warning('The standby does not stream after a reload; rewinding it')
        self._follow(primary_host, primary_port, user, password, slot)

    def _streaming(self):
        rows = self.engine.admin.execute('SELECT status FROM pg_stat_wal_receiver')
        return bool(rows) and rows[0][0] == 'streaming'

    def _point_standby(self, host, port, user, password, slot):
        """primary_conninfo and the slot of a running standby, by a reload
        (PostgreSQL restarts its WAL receiver); True once it streams."""
        host, port, user, passfile = self._credentials(host, port, user, password, slot)
        self._save(following=[host, port, user], slot=slot, read_only=True)
        self._one('SELECT pg_reload_conf()')
        if not process.wait_for(self._streaming, 30, interval=0.2):
            return False
        LOG.info('Standby of %s:%s%s', host, port, ' with slot %s' % slot if slot else '')
        return True

    def _credentials(self, host, port, user, password, slot):
        """Validated ``(host, port, user, passfile)``, the password in the
        0600 passfile the engine user reads."""
        host, port = base.check_endpoint(host, port)
        user = names.user_name(user)
        base.check_secret(password)
        if slot is not None:
            slot_name(slot)
        passfile = os.path.join(self._paths.state_dir, PASSFILE)
        files.write_file(passfile, pgpass_line(user, password), mode=0o600,
                         owner=app_mod.ENGINE_USER)
        return host, port, user, passfile

    def demote(self, primary_host, primary_port, user, password, slot=None):
        """The same as attach: pg_rewind undoes what the new primary lacks."""
        self._follow(primary_host, primary_port, user, password, slot)

    def _follow(self, host, port, user, password, slot):
        host, port, user, passfile = self._credentials(host, port, user, password, slot)
        self._clean_shutdown()
        source = ('host=%s port=%d user=%s passfile=%s connect_timeout=10'
                  % (host, port, user, passfile))
        self._save(following=[host, port, user], slot=slot, read_only=True)
        try:
            self._rewind(source)
            rewound = self._start_standby()
        except exception.ProcessExecutionError as exc:
            # Typically the WAL back to the divergence point is gone (a
            # restored copy checkpointed it away).
            LOG.warning('pg_rewind failed (%s)', exc.msg[-300:])
            rewound = False
        if not rewound:
            LOG.warning('Taking a base backup of the primary instead of rewinding')
            self.engine.stop()
            self._base_backup(source, slot)
            self._signal_standby()
            self.engine.start()
        self._drop_own_slots()
        LOG.info('Standby of %s:%s%s', host, port, ' with slot %s' % slot if slot else '')

    def _signal_standby(self):
        files.write_file(os.path.join(self._paths.datadir, 'standby.signal'), '',
                         mode=0o600, owner=app_mod.ENGINE_USER)

    def _start_standby(self):
        """Start the rewound standby; False when the primary no longer has the
        WAL it needs to become consistent (it had no slot for this member)."""
        self._signal_standby()
        log = self._paths.console_log
        offset = os.path.getsize(log) if os.path.exists(log) else 0
        self.engine.app.make_dirs()
        self.engine.app.spawn()

        def outcome():
            if self.engine._answers():
                return 'up'
            if os.path.exists(log):
                with open(log, errors='replace') as f:
                    f.seek(offset)
                    if 'has already been removed' in f.read():
                        return 'gone'
            return None if self.engine.app.child.running_pid() else 'exited'
        result = process.wait_for(outcome, CONF.state_change_wait_time, interval=0.5)
        if result == 'up':
            return True
        if result == 'gone':
            return False
        raise exception.EngineError(detail='the standby did not start: %s'
                                    % self.engine.app.log_tail())

    def replica_on_disk(self):
        """``standby.signal`` in the datadir starts the engine as a standby."""
        return os.path.exists(os.path.join(self._paths.datadir, 'standby.signal'))

    def _drop_own_slots(self):
        """A standby serves no replicas (no cascading): slots it kept from its
        time as a primary would only hold WAL back on its volume."""
        for (name,) in self.engine.admin.execute(
                "SELECT slot_name FROM pg_replication_slots "
                "WHERE slot_type = 'physical' AND NOT active"):
            self._one('SELECT pg_drop_replication_slot(%s)::text', (name,))
            LOG.info('Dropped slot %s kept from the time as a primary', name)

    def _tool(self, name):
        path = app_mod.find(name, self.engine.app.version)
        if not path:
            raise exception.EngineError(detail='%s is missing' % name)
        return path

    def _clean_shutdown(self):
        """Stop the engine; pg_rewind needs a cleanly shut down datadir, so a
        crashed one (a failed primary) first recovers once."""
        self.engine.stop()
        state = process.run([self._tool('pg_controldata'), '-D', self._paths.datadir],
                            ids=files.engine_ids(app_mod.ENGINE_USER)).stdout
        if 'Database cluster state:' in state and 'shut down' not in state.split(
                'Database cluster state:')[1].splitlines()[0]:
            # As a standby: a fenced old primary never takes a write while it
            # recovers (pg_rewind accepts 'shut down in recovery').
            LOG.info('Datadir was not shut down cleanly; recovering it first as a standby')
            self._signal_standby()
            self.engine.start()
            self.engine.stop()

    def _rewind(self, source):
        """pg_rewind from ``source``; WAL this member already archived (see
        the archive_command of postgresql.conf) is read back from the archive."""
        rewind_conf = os.path.join(self._paths.state_dir, 'rewind.conf')
        files.write_file(rewind_conf, "include '%s'\nrestore_command = %s\n" % (
            self._paths.main_conf,
            config.quote('cp %s/%%f %%p' % shlex.quote(self._paths.wal_archive))))
        result = process.run(
            [self._tool('pg_rewind'), '--target-pgdata=%s' % self._paths.datadir,
             '--source-server=%s dbname=postgres' % source, '--restore-target-wal',
             '--config-file=%s' % rewind_conf],
            timeout=max(CONF.state_change_wait_time, 600), cwd=self._paths.datadir,
            ids=files.engine_ids(app_mod.ENGINE_USER))
        LOG.info('pg_rewind: %s', (result.stdout + result.stderr).strip()[-300:])

    def _base_backup(self, source, slot):
        """Replace the datadir with a pg_basebackup of the primary, swapped in
        only once complete (the old datadir stays until then)."""
        datadir = self._paths.datadir
        fresh, old = datadir + '.basebackup', datadir + '.old'
        for path in (fresh, old):
            shutil.rmtree(path, ignore_errors=True)
        files.engine_dirs((fresh,), app_mod.ENGINE_USER, private=(fresh,))
        cmd = [self._tool('pg_basebackup'), '--dbname=%s' % source, '--pgdata=%s' % fresh,
               '--wal-method=stream', '--checkpoint=fast', '--no-password']
        if slot:
            cmd.append('--slot=%s' % slot_name(slot))
        try:
            process.run(cmd, timeout=max(CONF.state_change_wait_time, 3600),
                        cwd=fresh, ids=files.engine_ids(app_mod.ENGINE_USER))
        except exception.ProcessExecutionError:
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        os.rename(datadir, old)
        os.rename(fresh, datadir)
        shutil.rmtree(old, ignore_errors=True)
        LOG.info('Datadir replaced by a base backup of the primary')

    def _stop_following(self):
        """Promote when in recovery; then no primary, writable."""
        if self._in_recovery():
            done = self._one('SELECT pg_promote(true, %s)', (PROMOTE_TIMEOUT,))
            if not done:
                raise exception.EngineError(detail='promotion did not finish within %ss'
                                            % PROMOTE_TIMEOUT)
            # pg_rewind reads the source's timeline from pg_control, which a
            # promotion updates only at its next checkpoint: without this an
            # old primary rewound at once is "on the same timeline", is left
            # as it is and cannot follow.
            self.engine.admin.execute('CHECKPOINT')
        self._save(following=None, slot=None, read_only=False)
        self._one('SELECT pg_reload_conf()')

    def promote(self):
        self._stop_following()
        LOG.info('Promoted to primary at %s', self.position()['lsn'])

    def detach(self):
        self._stop_following()
        LOG.info('Detached from the primary')

    # -- any member -----------------------------------------------------------
    def position(self):
        """Replayed LSN on a standby, the current WAL LSN on a primary."""
        if self._in_recovery():
            lsn = self._one('SELECT pg_last_wal_replay_lsn()::text')
        else:
            lsn = self._one('SELECT pg_current_wal_lsn()::text')
        return {'lsn': lsn or '0/0'}

    @staticmethod
    def compare(a, b):
        return positions.compare_postgresql(a, b)

    def _last_error(self):
        """The server's latest FATAL/ERROR line (the walreceiver's reason)."""
        for line in reversed(process.tail(self._paths.console_log, 40).splitlines()):
            if 'FATAL:' in line or 'ERROR:' in line:
                return line.split('FATAL:', 1)[-1].split('ERROR:', 1)[-1].strip()
        return None

    def status(self):
        state = self._state()
        read_only = self._one('SHOW default_transaction_read_only') == 'on'
        position = self.position()
        if not self._in_recovery():
            return base.status_dict(base.PRIMARY, read_only=read_only, position=position)
        following = state.get('following')
        rows = self.engine.admin.execute(
            'SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver')
        streaming = bool(rows) and rows[0][0] == 'streaming'
        lag = self._one('SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '
                        'pg_last_wal_replay_lsn())::bigint')
        error = None if streaming else (
            self._last_error() or 'the WAL receiver is %s' % (rows[0][0] if rows else
                                                             'not running'))
        return base.status_dict(
            base.REPLICA, following='%s:%s' % tuple(following[:2]) if following else None,
            healthy=streaming, lag=None if lag is None else max(0, int(lag)), error=error,
            read_only=True, position=position)
