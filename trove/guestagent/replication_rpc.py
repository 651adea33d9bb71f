"""Guest RPC endpoints of replication (GuestAPI 1.5), a mixin of the Manager.

Thin wrappers over ``engine.replication`` (trove.guestagent.engines.
replication): keyword arguments in, plain JSON out.  The replication
password reaches the guest only inside the sealed guest RPC; it is never
logged, and an error that would quote it has it masked before it travels
back.
"""
import contextlib
import functools
import threading

from oslo_log import log as logging

from trove.common import exception
from trove.guestagent.engine_op import engine_op

LOG = logging.getLogger(__name__)


@contextlib.contextmanager
def _masking(password):
    """Re-raise any error with ``password`` masked in its message."""
    try:
        yield
    except Exception as exc:
        text = getattr(exc, 'msg', None) or str(exc)
        if password and password in text:
            masked = text.replace(password, '***')
            if isinstance(exc, exception.TroveError):
                exc.msg = masked
                exc.args = (masked,)
                raise
            raise exception.EngineError(detail=masked) from None
        raise


# Role changes of one member never overlap (a retried call from a restarted
# taskmanager waits for the first one instead of racing it).
_ROLE_LOCK = threading.Lock()


def _serialised(func):
    """One replication change of this member at a time."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _ROLE_LOCK:
            return func(*args, **kwargs)
    return wrapper


def _role_change(func):
    """Serialised, and never interrupted by the engine watch: attach and
    demote stop the engine on purpose (PostgreSQL's pg_rewind), which the
    watch must not take for a crash; afterwards the engine is meant to be up."""
    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        watch = getattr(self, 'watch', None)
        quiet = watch.quiet(wanted_up=True) if watch else contextlib.nullcontext()
        with _ROLE_LOCK, quiet:
            return func(self, *args, **kwargs)
    return wrapper


class ReplicationEndpoints:
    """Replication RPC methods; ``self.engine`` is the guest's engine."""

    engine = None

    @property
    def _replication(self):
        return self.engine.replication

    @engine_op
    @_serialised
    def ensure_replication_user(self, context, user, password, replica_host=None):
        """On the primary: a user with replication rights only (idempotent)."""
        with _masking(password):
            self._replication.ensure_replication_user(user, password,
                                                      replica_host=replica_host)

    @engine_op
    def get_replication_position(self, context, snapshot=False):
        """This member's position; ``snapshot`` asks a primary for the
        position a replica made now starts from."""
        if snapshot:
            return self._replication.snapshot_position()
        return self._replication.position()

    @engine_op
    @_role_change
    def attach_replica(self, context, primary_host, primary_port, user, password,
                       position=None, slot=None):
        """On a replica restored from a backup of the primary: follow it."""
        LOG.info('Attaching to primary %s:%s', primary_host, primary_port)
        with _masking(password):
            self._replication.attach(primary_host, primary_port, user, password,
                                     position=position, slot=slot)

    @engine_op
    @_serialised
    def create_replication_slot(self, context, name):
        self._replication.create_slot(name)

    @engine_op
    @_serialised
    def drop_replication_slot(self, context, name):
        self._replication.drop_slot(name)

    @engine_op
    def wait_for_position(self, context, position, wait_timeout):
        """True once this member applied ``position``, False after ``wait_timeout`` s."""
        return self._replication.wait_for(position, wait_timeout)

    @engine_op
    @_serialised
    def set_read_only(self, context, read_only):
        self._replication.set_read_only(bool(read_only))

    @engine_op
    @_serialised
    def set_synchronous(self, context, enabled, fallback_timeout):
        """(1.7) Synchronous replication on (or off) on this member."""
        self._replication.set_synchronous(bool(enabled), float(fallback_timeout))

    @engine_op
    @_serialised
    def set_failover_guard(self, context, enabled):
        """(1.8) This member belongs to a highly available set (or no longer)."""
        self._replication.set_guard(bool(enabled))

    @engine_op
    @_role_change
    def promote_to_primary(self, context):
        LOG.info('Promoting this replica to primary')
        self._replication.promote()

    @engine_op
    @_role_change
    def demote_to_replica(self, context, primary_host, primary_port, user, password,
                          slot=None):
        """On an old primary: become a replica of the new one."""
        LOG.info('Demoting to a replica of %s:%s', primary_host, primary_port)
        with _masking(password):
            self._replication.demote(primary_host, primary_port, user, password,
                                     slot=slot)

    @engine_op
    @_role_change
    def detach_replica(self, context):
        LOG.info('Detaching from the primary')
        self._replication.detach()

    @engine_op
    def get_client_auth(self, context):
        """(1.6) What clients log in with, when the engine does not replicate
        it (Redis's password); None otherwise.  Travels sealed only."""
        return self._replication.client_auth()

    @engine_op
    @_serialised
    def set_client_auth(self, context, auth):
        """(1.6) Accept the clients of the primary ``auth`` came from."""
        with _masking((auth or {}).get('password') if isinstance(auth, dict) else None):
            self._replication.set_client_auth(auth)

    @engine_op
    def get_replication_status(self, context):
        """``{role, following, healthy, lag, error, read_only, position}``."""
        return self._replication.status()
