"""MariaDB GTID replication behind the engine replication interface.

Every instance already writes a binlog with its own server id (my.cnf), so
replication needs no restart: a replica follows its primary with
``CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos``; MariaDB itself keeps
the primary's coordinates (master.info) across restarts, and the agent
persists ``read_only`` in conf.d/40-replication.cnf.

Positions are ``{'gtid': '<domain>-<server>-<seq>[,...]'}``; within a
domain the sequence number orders them.  The replication password is only
ever a bound parameter: statements are logged as templates.
"""
import os
import re

from oslo_log import log as logging

from trove.common import positions
from trove.guestagent.engines import replication as base
from trove.guestagent.engines.common import files
from trove.guestagent.engines.mysql import names

LOG = logging.getLogger(__name__)
REPLICATION_FILE = '40-replication.cnf'
# What a mariabackup restore leaves in the datadir about the binlog position
# of the copy (the file names vary between MariaDB versions).
BACKUP_INFO_FILES = ('mariadb_backup_binlog_info', 'xtrabackup_binlog_info',
                     'xtrabackup_info')
_INFO_GTID = re.compile(r"GTID of the last change '([0-9,-]*)'")
CONNECT_RETRY = 2  # seconds between reconnects of the IO thread
PROMOTE_APPLY_TIMEOUT = 60  # seconds to apply the received relay log


def backup_gtid(name, text):
    """The GTID in a mariabackup info file's ``text`` (None when absent).

    ``*_binlog_info`` is ``<file> <offset> <gtid>``; ``xtrabackup_info`` has
    ``binlog_pos = filename '...', position '...', GTID of the last change '...'``.
    """
    if name.endswith('binlog_info'):
        fields = text.split()
        return fields[2] if len(fields) >= 3 else None
    match = _INFO_GTID.search(text)
    return match.group(1) if match else None


def render_replication_cnf(read_only, sync_timeout_ms=None):
    """conf.d/40-replication.cnf: what must survive a restart besides
    master.info; with ``sync_timeout_ms``, semi-synchronous replication
    (AFTER_SYNC: a commit is acknowledged once a replica has its event)."""
    text = '[mysqld]\nread_only = %s\n' % ('ON' if read_only else 'OFF')
    if sync_timeout_ms is not None:
        text += ''.join('%s = %s\n' % item for item in _semi_sync(True, sync_timeout_ms))
    return text


def _semi_sync(enabled, timeout_ms):
    """The semi-synchronous variables of a member that may be either role."""
    on = 'ON' if enabled else 'OFF'
    return [('rpl_semi_sync_master_enabled', on),
            ('rpl_semi_sync_master_wait_point', 'AFTER_SYNC'),
            ('rpl_semi_sync_master_timeout', int(timeout_ms)),
            ('rpl_semi_sync_slave_enabled', on)]


class MariaDBReplication(base.Replication):
    """GTID replication of one MariaDB engine (``engine.admin`` runs the SQL)."""

    @property
    def _admin(self):
        return self.engine.admin

    def _one(self, sql, args=None):
        rows = self._admin.execute(sql, args)
        return rows[0][0] if rows else None

    # -- primary side ---------------------------------------------------------
    def ensure_replication_user(self, user, password, replica_host=None):
        """``user@'%'`` with REPLICATION SLAVE and BINLOG MONITOR only."""
        user = names.user_name(user)
        base.check_secret(password)
        host = names.host(replica_host) if replica_host else '%'
        self._admin.execute('CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s',
                            (user, host, password))
        self._admin.execute('ALTER USER %s@%s IDENTIFIED BY %s', (user, host, password))
        # Converge on exactly these rights, whatever the user had before.
        self._admin.execute('REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s', (user, host))
        self._admin.execute('GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO %s@%s',
                            (user, host))
        LOG.info('Replication user %s@%s is ready', user, host)

    def snapshot_position(self):
        """``{'gtid': @@gtid_binlog_pos}``: what this primary has written."""
        return {'gtid': self._one('SELECT @@GLOBAL.gtid_binlog_pos') or ''}

    def set_read_only(self, read_only):
        """``read_only`` live and in conf.d (users with READ_ONLY ADMIN, the
        agent's admin, still write)."""
        self._admin.execute('SET GLOBAL read_only = %s' % ('ON' if read_only else 'OFF'))
        self._persist(read_only)
        LOG.info('read_only is now %s', 'ON' if read_only else 'OFF')

    def _persist(self, read_only):
        paths = self.engine.paths
        os.makedirs(paths.conf_d, exist_ok=True)
        files.write_file(os.path.join(paths.conf_d, REPLICATION_FILE),
                         render_replication_cnf(read_only,
                                                self._state().get('sync_timeout_ms')))

    def set_synchronous(self, enabled, timeout):
        """Semi-synchronous replication live and in conf.d; a replica's IO
        thread is restarted so it acknowledges from now on."""
        timeout_ms = max(1, int(timeout * 1000))
        for name, value in _semi_sync(enabled, timeout_ms):
            self._admin.execute('SET GLOBAL %s = %s' % (
                name, value if isinstance(value, int) else "'%s'" % value))
        self._store_state(sync_timeout_ms=timeout_ms if enabled else None)
        self._persist(self._one('SELECT @@GLOBAL.read_only') == 1)
        if self._slave_status() is not None:
            self._admin.execute('STOP SLAVE IO_THREAD')
            self._admin.execute('START SLAVE IO_THREAD')
        LOG.info('Semi-synchronous replication %s', 'on' if enabled else 'off')

    # -- replica side ---------------------------------------------------------
    def _backup_gtid(self):
        """The GTID a restored mariabackup recorded, once: the files are
        renamed so a later re-attach never rewinds to it."""
        gtid = None
        for name in BACKUP_INFO_FILES:
            path = os.path.join(self.engine.paths.datadir, name)
            try:
                with open(path) as f:
                    text = f.read()
            except FileNotFoundError:
                continue
            os.replace(path, path + '.used')
            if gtid is None:
                gtid = backup_gtid(name, text)
        return gtid

    def attach(self, primary_host, primary_port, user, password, position=None,
               slot=None):
        """Follow ``primary_host:primary_port`` read-only from the copy's GTID.

        The copy's own record (a restored mariabackup's binlog info) wins:
        it is exact, while a position taken before a hot backup is older
        than the data.  Else ``position``, else what this member has applied
        (a re-attach to a new primary).
        """
        gtid = self._backup_gtid()
        if gtid is None and position is not None:
            gtid = positions.gtid_of(position)
        if gtid is None:
            gtid = self._one('SELECT @@GLOBAL.gtid_current_pos') or ''
        self.set_read_only(True)
        self._admin.execute('STOP SLAVE')
        # What the agent wrote here while preparing the copy (admin password,
        # hardening) must not stay in the binlog as transactions the primary
        # never had: a replica's own binlog starts empty.
        self._admin.execute('RESET MASTER')
        self._follow(primary_host, primary_port, user, password, gtid)

    def _follow(self, host, port, user, password, gtid):
        host, port = base.check_endpoint(host, port)
        user = names.user_name(user)
        base.check_secret(password)
        self._admin.execute('STOP SLAVE')
        if gtid is None:
            gtid = self._one('SELECT @@GLOBAL.gtid_current_pos') or ''
        self._admin.execute('SET GLOBAL gtid_slave_pos = %s', (gtid,))
        self._admin.execute(
            'CHANGE MASTER TO MASTER_HOST = %s, MASTER_PORT = %s, MASTER_USER = %s, '
            'MASTER_PASSWORD = %s, MASTER_CONNECT_RETRY = %s, MASTER_USE_GTID = slave_pos, '
            # TLS whenever the primary offers it: a primary in enforced or
            # mtls mode (engines/mysql/tls.py) refuses plain logins.
            'MASTER_SSL = 1',
            (host, port, user, password, CONNECT_RETRY))
        self._admin.execute('START SLAVE')
        LOG.info('Following %s:%s from GTID %s', host, port, gtid or '(start)')

    def _slave_status(self):
        """SHOW SLAVE STATUS as a dict, or None when not a replica."""
        with self._admin.cursor() as cur:
            cur.execute('SHOW SLAVE STATUS')
            row = cur.fetchone()
            if not row:
                return None
            return dict(zip([d[0] for d in cur.description], row, strict=True))

    def _stop_following(self):
        """Apply what was received, then forget the primary; writable."""
        st = self._slave_status()
        if st is not None:
            self._admin.execute('STOP SLAVE IO_THREAD')
            st = self._slave_status()
            if st and st.get('Slave_SQL_Running') == 'Yes' and st.get('Gtid_IO_Pos'):
                done = self._one('SELECT MASTER_GTID_WAIT(%s, %s)',
                                 (st['Gtid_IO_Pos'], PROMOTE_APPLY_TIMEOUT))
                if done != 0:
                    LOG.warning('Relay log not fully applied within %ss',
                                PROMOTE_APPLY_TIMEOUT)
            self._admin.execute('STOP SLAVE')
            self._admin.execute('RESET SLAVE ALL')
        self.set_read_only(False)

    def promote(self):
        """Become the writable primary (after applying the relay log)."""
        self._stop_following()
        LOG.info('Promoted to primary at GTID %s', self.position()['gtid'])

    def detach(self):
        """Standalone and writable; the old primary is forgotten."""
        self._stop_following()
        LOG.info('Detached from the primary')

    def demote(self, primary_host, primary_port, user, password, slot=None):
        """Read-only replica of the new primary, from everything this member has.

        An engine that is down (a fenced old primary, held at agent start)
        is first configured read-only, with the semi-synchronous replica
        side on when the set is synchronous, then started: it never takes a
        client write, and since MariaDB 10.6 (MDEV-21117) a former
        semi-synchronous primary started as a semi-synchronous replica
        truncates the binlog transactions no replica acknowledged, so it
        does not diverge from the new primary.
        """
        if self.engine.status() in ('crashed', 'shutdown'):
            self._persist(True)
            self.engine.start()
            LOG.info('Started the stopped engine read-only to follow %s:%s',
                     primary_host, primary_port)
        self.set_read_only(True)
        self._follow(primary_host, primary_port, user, password, None)

    def replica_on_disk(self):
        """conf.d/40-replication.cnf starts the engine read-only."""
        try:
            with open(os.path.join(self.engine.paths.conf_d, REPLICATION_FILE)) as f:
                return 'read_only = ON' in f.read()
        except FileNotFoundError:
            return False

    # -- any member -----------------------------------------------------------
    def position(self):
        """``{'gtid': @@gtid_current_pos}``: written or applied here."""
        return {'gtid': self._one('SELECT @@GLOBAL.gtid_current_pos') or ''}

    @staticmethod
    def compare(a, b):
        return positions.compare_mariadb(a, b)

    def wait_for(self, position, timeout):
        """MASTER_GTID_WAIT on a replica; the generic poll on a primary."""
        gtid = positions.gtid_of(position)
        if self._slave_status() is None:
            return super().wait_for(position, timeout)
        return self._one('SELECT MASTER_GTID_WAIT(%s, %s)', (gtid, float(timeout))) == 0

    def status(self):
        read_only = bool(int(self._one('SELECT @@GLOBAL.read_only') or 0))
        st = self._slave_status()
        position = self.position()
        if st is None:
            return base.status_dict(base.PRIMARY, read_only=read_only, position=position)
        io, sql = st.get('Slave_IO_Running'), st.get('Slave_SQL_Running')
        healthy = io == 'Yes' and sql == 'Yes'
        error = st.get('Last_IO_Error') or st.get('Last_SQL_Error') or None
        if not healthy and not error:
            error = 'replication threads: IO %s, SQL %s' % (io, sql)
        lag = st.get('Seconds_Behind_Master')
        return base.status_dict(
            base.REPLICA, following='%s:%s' % (st.get('Master_Host'), st.get('Master_Port')),
            healthy=healthy, lag=None if lag is None else int(lag),
            error=None if healthy else error, read_only=read_only, position=position)


def replication_for(engine):
    """The replication handler of a MariaDB engine."""
    return MariaDBReplication(engine)

