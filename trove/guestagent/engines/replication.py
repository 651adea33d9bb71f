"""The replication interface an engine exposes as ``engine.replication``.

The taskmanager's replication flows drive a replica set only through these
operations (over the guest RPC, see trove.guestagent.replication_rpc), so
every engine looks the same to them:

* on the primary: ``ensure_replication_user``, ``snapshot_position``,
  ``create_slot`` / ``drop_slot``, ``set_read_only`` (before a switchover);
* on a replica made from a backup of the primary: ``attach``, ``wait_for``,
  ``promote``, ``detach``;
* on an old primary: ``demote`` (follow the new primary);
* on any member: ``position``, ``compare``, ``status``; ``set_guard``
  (a member of a highly available set, see :meth:`Replication.held`);
* ``client_auth`` / ``set_client_auth``: what clients log in with, for
  engines that do not replicate it (Redis's password).

Arguments are keywords and every value is plain JSON.  A position is a
dict whose keys depend on the engine ({'gtid': '0-1-42'} for MariaDB,
{'lsn': '0/3000060'} for PostgreSQL, {'offset': 1234, 'replid': '...'} for
Redis); only ``compare`` of the same engine orders two of them.
Passwords are never logged, never put on a command line and never part of
an error message.
"""
import abc
import json
import os
import time

from trove.common import exception
from trove.guestagent.engines.common import files

PRIMARY = 'primary'
REPLICA = 'replica'
# The agent's record of a member's role (engines whose own files do not
# keep it: PostgreSQL, Redis), in the engine's state directory.
STATE_FILE = 'replication.json'


def status_dict(role, following=None, healthy=True, lag=None, error=None,
                read_only=False, position=None):
    """The shape ``status()`` returns, the same for every engine.

    ``following`` is ``'host:port'`` of the primary (None on a primary),
    ``lag`` seconds (MariaDB) or bytes (PostgreSQL, Redis) behind it (None
    when unknown or on a primary), ``error`` the engine's own text for a
    broken stream, ``read_only`` whether clients may write and ``position``
    the member's own (see ``Replication.position``).
    """
    return {'role': role, 'following': following, 'healthy': bool(healthy),
            'lag': lag, 'error': error, 'read_only': bool(read_only),
            'position': position}


def check_endpoint(host, port):
    """``(host, port)`` validated: a non-empty host without spaces or quotes,
    a TCP port; BadRequest otherwise (they end up in engine configs)."""
    if not isinstance(host, str) or not host or any(
            c in host for c in ' \t\r\n\'"\\,;=#'):
        raise exception.BadRequest(detail='invalid primary host %r' % (host,))
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise exception.BadRequest(detail='invalid primary port %r' % (port,))
    if not 0 < port < 65536:
        raise exception.BadRequest(detail='invalid primary port %r' % (port,))
    return host, port


def check_secret(value, what='replication password'):
    """A non-empty string without line breaks or quotes (it lands in config
    files and connection strings)."""
    if not isinstance(value, str) or not value or any(
            c in value for c in '\r\n\'"\\'):
        raise exception.BadRequest(detail='invalid %s' % what)
    return value


class Replication(abc.ABC):
    """Replication operations of one engine (abstract)."""

    def __init__(self, engine):
        self.engine = engine

    # -- the agent's record of this member's role (STATE_FILE) ------------------
    def _state_path(self):
        return os.path.join(self.engine.paths.state_dir, STATE_FILE)

    def _state(self):
        try:
            with open(self._state_path()) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def _store_state(self, **changes):
        """The record with ``changes`` applied, written 0600; returns it."""
        state = dict(self._state(), **changes)
        files.write_file(self._state_path(), json.dumps(state), mode=0o600)
        return state

    # -- primary side ---------------------------------------------------------
    @abc.abstractmethod
    def ensure_replication_user(self, user: str, password: str,
                                replica_host: str | None = None) -> None:
        """Create or update ``user`` with replication rights only (idempotent).

        ``replica_host`` is the address replicas connect from, for engines
        whose access rules name addresses (PostgreSQL's pg_hba); None allows
        the local loopback range.
        """

    @abc.abstractmethod
    def snapshot_position(self) -> dict:
        """The primary's current position, for a replica made now."""

    def create_slot(self, name: str) -> None:  # noqa: B027 - optional
        """Create a replication slot ``name`` (engines without slots: no-op)."""

    def drop_slot(self, name: str) -> None:  # noqa: B027 - optional
        """Drop slot ``name`` if it exists (engines without slots: no-op)."""

    @abc.abstractmethod
    def set_read_only(self, read_only: bool) -> None:
        """Refuse (True) or allow (False) client writes; persisted."""

    # -- replica side ---------------------------------------------------------
    @abc.abstractmethod
    def attach(self, primary_host: str, primary_port: int, user: str, password: str,
               position: dict | None = None, slot: str | None = None) -> None:
        """Follow the primary; the datadir is a copy (restored backup) of it.

        ``position`` is the primary's position the copy was taken at, when
        the engine cannot read it from the copy itself.  Persisted: the
        engine still follows after a restart.
        """

    @abc.abstractmethod
    def promote(self) -> None:
        """Stop following and accept writes (a replica becomes the primary)."""

    @abc.abstractmethod
    def demote(self, primary_host: str, primary_port: int, user: str, password: str,
               slot: str | None = None) -> None:
        """Become a read-only replica of the new primary (an old primary)."""

    @abc.abstractmethod
    def detach(self) -> None:
        """Stop following, forget the primary and accept writes (standalone)."""

    # -- synchronous mode --------------------------------------------------------
    def set_synchronous(self, enabled: bool, timeout: float) -> None:
        """A commit on this member, while it is the primary, is acknowledged
        only once a replica has it (``enabled``); ``timeout`` seconds without
        a replica's answer fall back to asynchronous where the engine can.
        Persisted; every member of a set gets it, so a promoted one keeps it."""
        raise exception.BadRequest(detail='%s has no synchronous replication'
                                   % type(self).__name__)

    # -- the failover guard -------------------------------------------------------
    def set_guard(self, enabled: bool) -> None:
        """Mark this member as one of a highly available set (``enabled``).

        Persisted in the agent's state file.  The set may fail over while
        this member is down; see :meth:`held`.
        """
        self._store_state(guard=bool(enabled))

    def held(self) -> bool:
        """Whether an engine found down at agent start must stay down.

        A guarded member configured as a writable primary may have been
        fenced and replaced while it was away: started as it is, it would be
        a second writer.  It waits for the control plane, which makes it a
        replica of the new primary (or restarts it when no failover took
        place).  A member that is a replica on disk starts read-only anyway.
        """
        return bool(self._state().get('guard')) and not self.replica_on_disk()

    def replica_on_disk(self) -> bool:
        """Whether the engine would start as a read-only replica (its files,
        not the running engine, say so)."""
        return False

    # -- what clients authenticate with -----------------------------------------
    def client_auth(self) -> dict | None:
        """What a replica must share with this primary so the same clients
        get in, when the engine does not replicate it itself (Redis: its
        password); None for engines whose users travel in the stream."""
        return None

    def set_client_auth(self, auth: dict) -> None:  # noqa: B027 - optional
        """Accept the clients of the primary ``auth`` came from."""

    # -- any member -----------------------------------------------------------
    @abc.abstractmethod
    def position(self) -> dict:
        """The position this member has applied (replica) or written (primary)."""

    @staticmethod
    @abc.abstractmethod
    def compare(a: dict, b: dict) -> int:
        """-1, 0 or 1 as position ``a`` is behind, equal to or ahead of ``b``."""

    @abc.abstractmethod
    def status(self) -> dict:
        """See :func:`status_dict`."""

    def reached(self, position: dict) -> bool:
        """Whether this member has applied at least ``position``."""
        return self.compare(self.position(), position) >= 0

    def wait_for(self, position: dict, timeout: float) -> bool:
        """Wait until this member has applied ``position``; False on timeout."""
        deadline = time.monotonic() + max(0.0, float(timeout))
        while True:
            if self.reached(position):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)
