"""The interface every guest engine manager implements.

The guest RPC manager (trove.guestagent.manager) only talks to this
interface, so engines stay interchangeable and testable on their own.
Status values are ServiceStatus descriptions: 'healthy', 'running',
'shutdown', 'crashed' and 'building'.
"""
import abc

from trove.common.prepare import PrepareRequest


class Engine(abc.ABC):
    """One database engine running next to the guest agent."""

    @abc.abstractmethod
    def prepare(self, req: PrepareRequest) -> None:
        """Install, initialise, configure, start and secure the engine, then
        create the requested databases and users.  Must be idempotent."""

    @abc.abstractmethod
    def start(self) -> None:
        """Start the engine (no-op when it already runs) and wait until it answers."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop the engine cleanly and wait until it has exited."""

    def warm_up(self) -> None:
        """Work that does not depend on the prepare request, done at agent boot
        while the agent waits for ``prepare``; must leave nothing prepare
        could trip over.  Optional."""
        return None

    def restart(self) -> None:
        """Stop, then start the engine."""
        self.stop()
        self.start()

    @abc.abstractmethod
    def status(self) -> str:
        """One of 'healthy', 'running', 'shutdown', 'crashed', 'building'."""

    @abc.abstractmethod
    def create_databases(self, databases: list[dict]) -> None:
        """Create databases given as ``{name, character_set?, collate?}``."""

    @abc.abstractmethod
    def delete_database(self, name: str) -> None:
        """Drop database ``name``; DatabaseNotFound if it does not exist."""

    @abc.abstractmethod
    def list_databases(self) -> list[dict]:
        """User-visible databases as ``{name, character_set, collate}``."""

    @abc.abstractmethod
    def create_users(self, users: list[dict]) -> None:
        """Create users ``{name, password, host?, databases: [{name}]}`` with grants."""

    @abc.abstractmethod
    def delete_user(self, name: str, host: str = '%') -> None:
        """Drop user ``name@host``; UserNotFound if it does not exist."""

    @abc.abstractmethod
    def list_users(self) -> list[dict]:
        """User-visible users as ``{name, host, databases: [{name}]}``."""

    # -- optional operations ---------------------------------------------
    # Engines override what they support; the rest answer 501 through the
    # API as upstream does for datastores without the feature.
    def _unsupported(self, operation):
        from trove.common import exception
        from trove.conf import CONF
        raise exception.DatastoreOperationNotSupported(
            operation=operation, datastore=CONF.datastore_manager)

    def get_user(self, name: str, host: str = '%') -> dict:
        """``{name, host, databases: [{name}]}``; UserNotFound if absent."""
        self._unsupported('get_user')

    def update_user(self, name: str, host: str, new_name: str | None = None,
                    new_host: str | None = None, new_password: str | None = None) -> None:
        """Rename, re-host or re-password one user."""
        self._unsupported('update_user')

    def change_passwords(self, users: list[dict]) -> None:
        """Set passwords of ``[{name, host?, password}]``."""
        self._unsupported('change_passwords')

    def grant_access(self, name: str, host: str, databases: list[str]) -> None:
        """Give ``name@host`` full access to each database."""
        self._unsupported('grant_access')

    def revoke_access(self, name: str, host: str, database: str) -> None:
        """Take away ``name@host``'s access to ``database``."""
        self._unsupported('revoke_access')

    def list_access(self, name: str, host: str = '%') -> list[dict]:
        """Databases ``name@host`` can use, as ``[{name}]``."""
        self._unsupported('list_access')

    def enable_root(self, password: str | None = None) -> dict:
        """Enable the superuser; returns ``{name, password}``."""
        self._unsupported('enable_root')

    def disable_root(self) -> None:
        self._unsupported('disable_root')

    def is_root_enabled(self) -> bool:
        self._unsupported('is_root_enabled')

    def update_overrides(self, overrides: dict, remove: bool = False) -> None:
        """Write configuration-group values to the engine's config (or remove them)."""
        self._unsupported('update_overrides')

    def apply_overrides(self, overrides: dict) -> None:
        """Apply dynamic values to the running engine without a restart."""
        self._unsupported('apply_overrides')

    def start_db_with_conf_changes(self, config_contents: str) -> None:
        """Restart the engine with a new flavor-sized configuration template."""
        self._unsupported('start_db_with_conf_changes')

    def log_definitions(self) -> list:
        """The logs of ``/instances/{id}/log`` as guest_log.LogDefinition; by
        default only the agent's own log (engines add theirs)."""
        from trove.guestagent import guest_log
        return [guest_log.agent_log()]

    @property
    def replication(self):
        """The engine's trove.guestagent.engines.replication.Replication."""
        self._unsupported('replication')

    def volume_info(self) -> dict:
        """Filesystem usage of the data volume: ``{total, used, free}`` in GB."""
        self._unsupported('volume_info')
