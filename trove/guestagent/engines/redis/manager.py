"""Redis engine manager.

Redis has no Trove databases or users (those operations answer 501 through
the Engine defaults); "root" is the password every client authenticates
with.  The agent keeps that password in a 0600 secret file and talks to the
server over a private unix socket.  Before the user enables root the
password is a generated one only the agent knows.
"""
import os
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from oslo_log import log as logging

from trove.common import exception
from trove.common.prepare import PrepareRequest
from trove.guestagent.engines import base
from trove.guestagent.engines.common import files, server
from trove.guestagent.engines.redis import app as app_mod
from trove.guestagent.engines.redis import config
from trove.guestagent.engines.redis import replication as replication_mod

LOG = logging.getLogger(__name__)
ROOT_NAME = 'root'


class RedisEngine(server.ChildServerMixin, base.Engine):
    """A private redis-server with its data on the instance volume.

    The server stops with SIGTERM: redis saves (RDB/AOF) and exits.
    """

    def __init__(self, paths: config.Paths | None = None):
        self.paths = paths or config.Paths.from_conf()
        self.app = app_mod.RedisApp(self.paths)
        self.secret = files.SecretFile(self.paths.secret)
        self._protect = None  # whether redis-server knows the Redis 7 guards
        self._overrides = {}  # the configuration-group values last written
        self._replication = replication_mod.RedisReplication(self)

    @property
    def replication(self):
        """REPLICAOF replication (see engines/redis/replication.py)."""
        return self._replication

    # -- lifecycle -----------------------------------------------------
    def prepare(self, req: PrepareRequest) -> None:
        """Install, configure, start; databases and users are not Redis features."""
        started = time.monotonic()
        LOG.info('Preparing Redis: %r', req)
        if req.databases or req.users:
            # The API refuses these for Redis; an old or foreign sender's are dropped.
            LOG.warning('Ignoring databases and users: Redis has neither')
        self.app.install()
        self.app.make_dirs()
        if req.root_password:
            self.secret.write(req.root_password)
            files.write_file(self.paths.root_marker, 'enabled\n')
        config.write_template(self.paths, req.config_contents)
        config.write_overrides(self.paths, req.overrides)
        self._write_main(self.secret.ensure())
        self.start()
        LOG.info('Redis prepared in %.1fs', time.monotonic() - started)

    def _write_main(self, password):
        if self._protect is None:
            self._protect = self.app.major_version() >= 7
        config.write_main(self.paths, password, app_mod.ENGINE_USER, self._protect)

    def client(self, password=None, timeout=5):
        """A client on the private socket, authenticated with the secret."""
        # No retries: the caller decides what a refused or failed call means,
        # and status checks must stay quick.
        return redis.Redis(unix_socket_path=self.paths.socket,
                           password=password or self.secret.read(),
                           socket_timeout=timeout, socket_connect_timeout=timeout,
                           retry=Retry(NoBackoff(), 0))

    def _ping(self):
        """True: answers; False: down; None: up but not ready or refusing us."""
        try:
            with self.client(timeout=2) as cli:
                return bool(cli.ping())
        except (redis.AuthenticationError, redis.ResponseError, redis.BusyLoadingError):
            return None
        except (redis.RedisError, OSError, exception.EngineError):
            return False

    def _answers(self):
        """Whether redis-server answers PING to the agent's password."""
        return self._ping() is True

    # -- not Redis features: 501 through the API -------------------------
    def create_databases(self, databases: list[dict]) -> None:
        self._unsupported('create_databases')

    def delete_database(self, name: str) -> None:
        self._unsupported('delete_database')

    def list_databases(self) -> list[dict]:
        self._unsupported('list_databases')

    def create_users(self, users: list[dict]) -> None:
        self._unsupported('create_users')

    def delete_user(self, name: str, host: str = '%') -> None:
        self._unsupported('delete_user')

    def list_users(self) -> list[dict]:
        self._unsupported('list_users')

    # -- root: the password ----------------------------------------------
    def _set_password(self, password):
        """Change the password live, then in the secret and the config file;
        the live value is put back when the files cannot be written."""
        old = self.secret.read()
        with self.client(old) as cli:
            cli.config_set('requirepass', password)
            try:
                self.secret.write(password)
                self._write_main(password)
            except OSError:
                cli.config_set('requirepass', old)
                self.secret.write(old)
                raise

    def enable_root(self, password: str | None = None) -> dict:
        """Set (or generate) the password and hand it to the user."""
        if password is None:
            password = files.generate_password()
        if not isinstance(password, str) or not password:
            raise exception.BadRequest(detail='the root password must be a non-empty string')
        self._set_password(password)
        files.write_file(self.paths.root_marker, 'enabled\n')
        LOG.info('Redis root enabled')
        return {'name': ROOT_NAME, 'password': password}

    def disable_root(self) -> None:
        """A new password only the agent knows locks the user out."""
        self._set_password(files.generate_password())
        if os.path.exists(self.paths.root_marker):
            os.unlink(self.paths.root_marker)
        LOG.info('Redis root disabled')

    def share_password(self, password: str, root_enabled: bool) -> None:
        """The password of the primary this replica follows (and its root
        state), so the primary's clients read here too."""
        self._set_password(password)
        if root_enabled:
            files.write_file(self.paths.root_marker, 'enabled\n')
        elif os.path.exists(self.paths.root_marker):
            os.unlink(self.paths.root_marker)
        LOG.info('Client password shared with the primary')

    def is_root_enabled(self) -> bool:
        return os.path.exists(self.paths.root_marker)

    # -- configuration -----------------------------------------------------
    def update_overrides(self, overrides: dict, remove: bool = False) -> None:
        """Persist configuration-group values (all of them) or drop them."""
        self._overrides = {} if remove else dict(overrides or {})
        config.write_overrides(self.paths, self._overrides)

    def apply_overrides(self, overrides: dict) -> None:
        """CONFIG SET each value on the running server; None values (a detach)
        take effect at the next restart, from the files."""
        values = {config.option_name(k): v for k, v in (overrides or {}).items()
                  if v is not None}
        failures, rejected = [], set()
        with self.client() as cli:
            for name in sorted(values):
                value = values[name]
                if isinstance(value, bool):
                    value = 'yes' if value else 'no'
                try:
                    cli.config_set(name, value)
                except redis.ResponseError as exc:
                    failures.append('%s: %s' % (name, exc))
                    rejected.add(name)
        if rejected:
            # redis-server refuses to start on a value CONFIG SET refused
            # (a bad maxmemory-policy, say): keep such values out of the file.
            kept = {k: v for k, v in self._overrides.items()
                    if config.option_name(k) not in rejected}
            self.update_overrides(kept)
        if failures:
            raise exception.EngineError(detail='could not apply ' + '; '.join(failures))

    def start_db_with_conf_changes(self, config_contents: str) -> None:
        """Restart with a new flavor-sized template (after a flavor resize)."""
        self.stop()
        config.write_template(self.paths, config_contents)
        self.start()
