"""MariaDB (mysql family) engine manager: composes the process, security and
SQL handlers behind the generic Engine interface."""
import time

import pymysql
from oslo_log import log as logging

from trove.common import exception
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.engines import base
from trove.guestagent.engines.common import server, sql_admin
from trove.guestagent.engines.mysql import admin as admin_mod
from trove.guestagent.engines.mysql import app as app_mod
from trove.guestagent.engines.mysql import config, logs, security
from trove.guestagent.engines.mysql import overrides as overrides_mod
from trove.guestagent.engines.mysql import replication as replication_mod
from trove.guestagent.engines.mysql import tls as tls_mod

LOG = logging.getLogger(__name__)


class MariaDBEngine(server.ChildServerMixin, sql_admin.SqlAdminMixin, base.Engine):
    """A private mariadbd with its datadir on the instance volume.

    The server stops with SIGTERM, a clean shutdown for mariadbd.
    """

    security = security

    def __init__(self, paths: config.Paths | None = None):
        self.paths = paths or config.Paths.from_conf()
        self.app = app_mod.MariaDBApp(self.paths)
        self.secret = security.AdminSecret(self.paths.admin_secret)
        self.admin = admin_mod.Admin(self.paths.socket, self.secret.read)
        self._replication = replication_mod.MariaDBReplication(self)
        self.tls = tls_mod.MariaDBTls(self)

    @property
    def replication(self):
        """GTID replication (see engines/mysql/replication.py)."""
        return self._replication

    # -- lifecycle -----------------------------------------------------
    def prepare(self, req: PrepareRequest) -> None:
        """Install, initialise, configure, start, secure; then dbs and users."""
        started = time.monotonic()
        LOG.info('Preparing MariaDB: %r', req)
        self.app.install()
        self.app.make_dirs()
        config.write_config(self.paths, req.config_contents, req.overrides)
        self.tls.restore()  # a rebuilt guest serves the volume's TLS again
        self.app.initialize()
        self.start()
        security.ensure_admin(self.paths.socket, self.secret)
        security.harden(self.admin)
        if req.root_password:
            security.set_root_password(self.admin, req.root_password)
        self.admin.create_databases(req.databases)
        self.admin.create_users(req.users)
        LOG.info('MariaDB prepared in %.1fs', time.monotonic() - started)

    def warm_up(self) -> None:
        """Install binaries and pre-initialise system tables before prepare."""
        self.app.install()
        self.app.prewarm()

    def _answers(self):
        """Whether the server speaks the protocol on the socket (any login result)."""
        try:
            self._ping()
            return True
        except pymysql.err.OperationalError as exc:
            return bool(exc.args) and exc.args[0] in admin_mod.ACCESS_DENIED
        except (pymysql.err.MySQLError, exception.EngineError):
            return False

    def _ping(self):
        if self.secret.exists():
            user, password = CONF.mariadb.root_controller_user, self.secret.read()
        else:
            user, password = admin_mod.bootstrap_user(), None
        conn = admin_mod.connect(self.paths.socket, user, password, timeout=2)
        try:
            with conn.cursor() as cur:
                cur.execute('SELECT 1')
        finally:
            conn.close()

    def _healthy(self):
        """Whether the agent can log in and run a query."""
        try:
            self._ping()
            return True
        except (pymysql.err.MySQLError, exception.EngineError):
            return False

    def log_definitions(self) -> list:
        return logs.definitions(self.paths, self.admin)

    def create_users(self, users: list[dict]) -> None:
        """Create users; under mtls they need a client certificate too."""
        self.admin.create_users(users)
        if self.tls.mtls():
            self.tls.require_x509(True)

    # -- configuration ---------------------------------------------------------
    def update_overrides(self, overrides: dict, remove: bool = False) -> None:
        overrides_mod.write(self.paths, overrides, remove)

    def apply_overrides(self, overrides: dict) -> None:
        overrides_mod.apply(self.admin, overrides)

    def start_db_with_conf_changes(self, config_contents: str) -> None:
        """Restart with a new flavor-sized template (after a flavor resize)."""
        self.stop()
        overrides_mod.write_template(self.paths, config_contents)
        self.start()
