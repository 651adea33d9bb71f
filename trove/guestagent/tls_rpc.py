"""Guest RPC endpoints of TLS (GuestAPI 1.9), a mixin of the Manager.

The PKCS#12 container (base64 text: RPC bodies are JSON) and its password
reach the guest only inside the sealed guest RPC of the instance
(trove.common.rpc_crypto); they are never logged, and the answers carry
only what GET /instances/{id}/ssl shows.
"""
import base64
import binascii

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engine_op import engine_op
from trove.guestagent.replication_rpc import _masking


class TlsEndpoints:
    """ssl_apply, ssl_disable, ssl_rollback, ssl_show over ``engine.tls``."""

    engine = None

    def _tls(self):
        tls = getattr(self.engine, 'tls', None)
        if tls is None:
            raise exception.DatastoreOperationNotSupported(
                operation='ssl', datastore=CONF.datastore_manager)
        return tls

    @engine_op
    def ssl_apply(self, context, mode=None, p12=None, password=None):
        """Serve the container's certificate in ``mode``; the answer has
        ``status``, ``mode``, certificate facts and ``restart_required``."""
        tls = self._tls()
        try:
            payload = base64.b64decode(p12 or '', validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise exception.BadRequest(detail='the certificate container is not base64')
        with _masking(password):
            return tls.apply(mode=mode, p12=payload, password=password)

    @engine_op
    def ssl_disable(self, context):
        return self._tls().disable()

    @engine_op
    def ssl_rollback(self, context):
        return self._tls().rollback()

    @engine_op
    def ssl_show(self, context, include_certificate=False):
        return self._tls().show(include_certificate=bool(include_certificate))
