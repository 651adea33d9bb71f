"""TLS of the PostgreSQL engine: ssl settings in conf.d, rules in pg_hba.

- basic: ``ssl = on`` with the files of the container; both TLS and plain
  TCP logins work.
- enforced: pg_hba refuses TCP without TLS (``hostnossl ... reject``).
- mtls: and TLS users authenticate by their client certificate (``cert``:
  signed by the container's CA, CN equal to the role name).

PostgreSQL re-reads its ssl settings and pg_hba on a reload, so no change
here needs a restart.  The agent's own login is peer over the socket and
never meets these rules.
"""
import time

from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines.common import files, tls_files
from trove.guestagent.engines.postgresql import app as app_mod
from trove.guestagent.engines.postgresql import config

LOG = logging.getLogger(__name__)
RELOAD_WAIT = 10.0


def render(store: tls_files.TlsStore) -> str:
    """conf.d/30-tls.conf for the current state of ``store``."""
    lines = ['# TLS, written by the trove guest agent.']
    if not store.current():
        return '\n'.join(lines + ['ssl = off']) + '\n'
    settings = {'ssl': True, 'ssl_cert_file': store.path(tls_files.CERT_FILE),
                'ssl_key_file': store.path(tls_files.KEY_FILE)}
    if store.has_ca():
        settings['ssl_ca_file'] = store.path(tls_files.CA_FILE)
    lines += ['%s = %s' % (k, config.quote(v)) for k, v in settings.items()]
    return '\n'.join(lines) + '\n'


class PostgreSQLTls(tls_files.EngineTls):
    """TLS of one PostgreSQLEngine (engines/postgresql/manager.py)."""

    owner = app_mod.ENGINE_USER

    def _restart_pending(self):
        return False

    def write_config(self):
        """30-tls.conf only: prepare writes postgresql.conf and pg_hba
        (which reads the mode from the store) itself."""
        paths = self.engine.paths
        files.write_file(paths.conf_d + '/' + config.TLS_FILE, render(self.store))

    def _configure(self):
        paths = self.engine.paths
        self.write_config()
        # A cluster prepared before TLS existed lacks the include line.
        files.write_file(paths.main_conf, config.render_main(
            paths, CONF.postgresql.port, CONF.host_address))
        config.write_hba(paths)
        if self.engine.app.child.running_pid():
            self._reload()
        current = self.store.current()
        LOG.info('PostgreSQL TLS is now %s', current['mode'] if current else 'off')
        return False

    def _reload(self):
        """Reload and wait until the postmaster has read the files; a
        certificate or rule it could not load is an error, not a log line."""
        admin = self.engine.admin
        before = admin.execute('SELECT pg_conf_load_time()')[0][0]
        admin.execute('SELECT pg_reload_conf()')
        deadline = time.monotonic() + RELOAD_WAIT
        while admin.execute('SELECT pg_conf_load_time()')[0][0] == before:
            if time.monotonic() > deadline:
                raise exception.EngineError(detail='PostgreSQL did not reload its settings')
            time.sleep(0.1)
        bad = admin.execute('SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL')
        expected = 'on' if self.store.current() else 'off'
        if bad[0][0] or admin.execute('SHOW ssl')[0][0] != expected:
            raise exception.EngineError(detail='PostgreSQL refused the TLS settings; see '
                                        'its log')
