"""TLS of the MariaDB engine: certificates, secure transport, client certs.

- basic: ssl_cert/ssl_key/ssl_ca in conf.d/30-tls.cnf; TLS is offered.
- enforced: also require_secure_transport, so a plain TCP login is
  refused.  The agent's own unix socket counts as secure transport, so the
  agent keeps working.
- mtls: enforced, and every user of the instance gets ``REQUIRE X509``:
  a client must present a certificate the CA of the container signed (and
  still its password).  The agent's users log in over the socket and are
  left alone.

mariadbd reads the certificate paths only at start and aborts when they
name missing files, so turning TLS on for the first time, or off, needs a
restart; while TLS is up a new certificate is read by ``FLUSH SSL`` and
the mode changes live.
"""
import os

import pymysql
from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines.common import files, tls_files
from trove.guestagent.engines.mysql import app as app_mod

LOG = logging.getLogger(__name__)
TLS_FILE = '30-tls.cnf'


def render(store: tls_files.TlsStore) -> str:
    """conf.d/30-tls.cnf for the current state of ``store``."""
    current = store.current()
    lines = ['# TLS, written by the trove guest agent.', '[mysqld]']
    if current:
        lines += ['ssl_cert = %s' % store.path(tls_files.CERT_FILE),
                  'ssl_key = %s' % store.path(tls_files.KEY_FILE)]
        if store.has_ca():
            lines.append('ssl_ca = %s' % store.path(tls_files.CA_FILE))
        if current['mode'] in ('enforced', 'mtls'):
            lines.append('require_secure_transport = ON')
    return '\n'.join(lines) + '\n'


class MariaDBTls(tls_files.EngineTls):
    """TLS of one MariaDBEngine (engines/mysql/manager.py)."""

    owner = app_mod.ENGINE_USER

    @property
    def conf_file(self):
        return os.path.join(self.engine.paths.conf_d, TLS_FILE)

    def _live_ssl(self):
        """Whether the running server speaks TLS (None when it is down)."""
        if not self.engine.app.child.running_pid():
            return None
        rows = self.engine.admin.execute('SELECT @@have_ssl')
        return rows[0][0] == 'YES'

    def _restart_pending(self):
        live = self._live_ssl()
        return live is not None and live != bool(self.store.current())

    def write_config(self):
        files.write_file(self.conf_file, render(self.store))

    def _configure(self):
        self.write_config()
        live = self._live_ssl()
        if live is None:
            return False  # the next start reads the files
        current = self.store.current()
        mode = current['mode'] if current else None
        if live and current:
            self._flush_ssl()
        # Only while TLS is up: requiring it of a server without TLS would
        # lock every TCP client out until the restart.
        secure = live and mode in ('enforced', 'mtls')
        self.engine.admin.execute('SET GLOBAL require_secure_transport = %s'
                                  % ('ON' if secure else 'OFF'))
        self.require_x509(mode == 'mtls')
        LOG.info('MariaDB TLS is now %s', mode or 'off')
        return live != bool(current)

    def _flush_ssl(self):
        """Re-read the certificate files; the server keeps the old ones if
        the new ones do not load, which must not pass silently."""
        try:
            self.engine.admin.execute('FLUSH SSL')
        except pymysql.err.MySQLError as exc:
            raise exception.EngineError(detail='MariaDB refused the certificate: %s'
                                        % exc.args[-1])

    def require_x509(self, required):
        """``REQUIRE X509`` (or NONE) on every TCP user but the agent's own
        (ignore_users: the admin, the replication user whose replicas log
        in with a password only); the user-facing root is included."""
        agent_users = ({CONF.mariadb.root_controller_user, ''}
                       | set(CONF.mariadb.ignore_users)) - {'root'}
        rows = self.engine.admin.execute(
            "SELECT User, Host FROM mysql.user WHERE is_role = 'N' AND Host <> 'localhost'")
        for name, host in rows:
            if name not in agent_users:
                self.engine.admin.execute('ALTER USER %%s@%%s REQUIRE %s'
                                          % ('X509' if required else 'NONE'), (name, host))

    def mtls(self):
        """Whether new users must get ``REQUIRE X509`` too."""
        current = self.store.current()
        return bool(current) and current['mode'] == 'mtls'
