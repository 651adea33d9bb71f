"""PostgreSQL engine manager: composes the process, config, SQL and root
handlers behind the generic Engine interface."""
import time

import psycopg
from oslo_log import log as logging

from trove.common import exception
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.engines import base
from trove.guestagent.engines.postgresql import admin as admin_mod
from trove.guestagent.engines.postgresql import app as app_mod
from trove.guestagent.engines.common import server, sql_admin
from trove.guestagent.engines.postgresql import config, logs, security
from trove.guestagent.engines.postgresql import replication as replication_mod
from trove.guestagent.engines.postgresql import tls as tls_mod

LOG = logging.getLogger(__name__)


class PostgreSQLEngine(server.ChildServerMixin, sql_admin.SqlAdminMixin, base.Engine):
    """A private PostgreSQL cluster with its data on the instance volume.

    The server stops with SIGINT, PostgreSQL's fast shutdown (see PostgresApp).
    """

    security = security

    def __init__(self, paths: config.Paths | None = None):
        self.paths = paths or config.Paths.from_conf()
        self.app = app_mod.PostgresApp(self.paths, CONF.datastore_version)
        self.admin = admin_mod.Admin(self.paths)
        self._replication = replication_mod.PostgreSQLReplication(self)
        self.tls = tls_mod.PostgreSQLTls(self)

    @property
    def replication(self):
        """Streaming replication (see engines/postgresql/replication.py)."""
        return self._replication

    # -- lifecycle -----------------------------------------------------
    def prepare(self, req: PrepareRequest) -> None:
        """Install, initdb, configure, start; then root, databases and users."""
        started = time.monotonic()
        LOG.info('Preparing PostgreSQL: %r', req)
        if req.ds_version:
            self.app.version = req.ds_version
        self.app.install()
        self.app.make_dirs()
        self.app.initialize()
        config.write_config(self.paths, req.config_contents, req.overrides)
        self.tls.restore()  # a rebuilt guest serves the volume's TLS again
        self.start()
        if req.root_password:
            security.enable_root(self.admin, req.root_password)
        self.admin.create_databases(req.databases)
        self.admin.create_users(req.users)
        LOG.info('PostgreSQL prepared in %.1fs', time.monotonic() - started)

    def _answers(self):
        """Whether postgres accepts the admin."""
        try:
            self._ping()
            return True
        except psycopg.Error:
            return False

    def _ping(self):
        with admin_mod.connect(self.paths, timeout=2) as conn:
            conn.execute('SELECT 1')

    def log_definitions(self) -> list:
        return logs.definitions(self.paths, self.admin)

    # -- configuration -----------------------------------------------------
    def update_overrides(self, overrides: dict, remove: bool = False) -> None:
        """Persist configuration-group values (all of them) or drop them."""
        config.write_overrides(self.paths, {} if remove else overrides)

    def apply_overrides(self, overrides: dict) -> None:
        """PostgreSQL re-reads its files on a reload: dynamic values written
        by update_overrides take effect, the rest wait for a restart."""
        for key in overrides or {}:
            config.option_name(key)
        try:
            self.admin.execute('SELECT pg_reload_conf()')
        except psycopg.Error as exc:
            raise exception.EngineError(detail='reload failed: %s' % exc.__class__.__name__)

    def start_db_with_conf_changes(self, config_contents: str) -> None:
        """Restart with a new flavor-sized template (after a flavor resize)."""
        self.stop()
        config.write_template(self.paths, config_contents)
        self.start()
