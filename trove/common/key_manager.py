"""The users' secrets in the key manager (Barbican) through castellan.

Trove reads a secret with the user's own token (the request context), so
it sees only what the user may see, and registers itself as a *consumer*
of the secrets an instance uses (``service`` trove, ``resource_type``
instance, ``resource_id`` the instance id): Barbican then warns before a
secret in use is deleted.  Payloads never reach a log line or an error.

``get_manager`` is the hook tests replace with an in-memory manager.
"""
import re

from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF

LOG = logging.getLogger(__name__)
_UUID = r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'
_REF_RE = re.compile(r'^(?:https?://\S+/secrets/)?(%s)/?$' % _UUID)
SERVICE = 'trove'
RESOURCE_TYPE = 'instance'


def secret_id(ref):
    """The secret's UUID of a Barbican secret ref (or a bare UUID); BadRequest else."""
    match = _REF_RE.match(ref or '') if isinstance(ref, str) else None
    if not match:
        raise exception.BadRequest(detail='%r is not a key manager secret reference'
                                   % (ref if isinstance(ref, str) else type(ref).__name__))
    return match.group(1).lower()


def get_manager():
    """A castellan key manager for CONF (``[key_manager] backend``, barbican)."""
    from castellan import key_manager as castellan_km
    return castellan_km.API(CONF)


def _consumer(instance_id):
    return {'service': SERVICE, 'resource_type': RESOURCE_TYPE, 'resource_id': instance_id}


class Secrets:
    """Secret reads and consumer registrations for one request context."""

    def __init__(self, context):
        self.context = context
        self.manager = get_manager()

    def _failed(self, exc, ref, what):
        """A clear 4xx/5xx for a castellan failure (never the payload)."""
        from castellan.common import exception as km_exc
        if isinstance(exc, km_exc.ManagedObjectNotFoundError):
            return exception.BadRequest(detail='secret %s was not found' % ref)
        # Barbican's own client errors come from the raw lookup (_raw).
        status = getattr(exc, 'status_code', None)
        if status == 404:
            return exception.BadRequest(detail='secret %s was not found' % ref)
        if isinstance(exc, km_exc.Forbidden) or status in (401, 403):
            return exception.BadRequest(detail='secret %s may not be read' % ref)
        LOG.warning('Key manager failed to %s %s: %s', what, ref, type(exc).__name__)
        return exception.KeyManagerError(detail='could not %s secret %s' % (what, ref))

    def payload(self, ref) -> bytes:
        """The payload of secret ``ref`` as bytes."""
        uuid = secret_id(ref)
        try:
            data = self._raw(uuid)
        except Exception as exc:
            raise self._failed(exc, ref, 'read') from None
        if data is None:
            raise exception.BadRequest(detail='secret %s has no payload' % ref)
        return data if isinstance(data, bytes) else str(data).encode()

    def _raw(self, uuid):
        """The payload as stored.  castellan's ``get`` converts a
        ``certificate`` secret from PEM to DER and so cannot return the
        PKCS#12 container users store under that type (as the tempest
        plugin does); its Barbican manager's secret lookup gives the stored
        bytes.  Other managers answer through ``get``."""
        lookup = getattr(self.manager, '_get_secret', None)
        if lookup is not None:
            return lookup(self.context, uuid).payload
        return self.manager.get(self.context, uuid).get_encoded()

    def password(self, ref) -> str:
        """A passphrase secret as text."""
        data = self.payload(ref)
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise exception.BadRequest(detail='secret %s is not a text passphrase' % ref)

    def add_consumer(self, ref, instance_id):
        try:
            self.manager.add_consumer(self.context, secret_id(ref), _consumer(instance_id))
        except Exception as exc:
            raise self._failed(exc, ref, 'register a consumer of') from None

    def remove_consumer(self, ref, instance_id):
        """Best effort: a secret already deleted has no consumer to remove."""
        try:
            self.manager.remove_consumer(self.context, secret_id(ref),
                                         _consumer(instance_id))
        except Exception as exc:
            LOG.warning('Could not remove the consumer of %s for instance %s: %s',
                        ref, instance_id, type(exc).__name__)
