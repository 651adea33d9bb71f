"""Client of the conductor, used by guests.  Every method is a cast.

Version history:
  1.0 - heartbeat, notify_exc_info
  1.1 - update_backup
"""
import time

from trove.common import rpc
from trove.common import rpc_crypto
from trove.conf import CONF


class ConductorAPI:
    """What a guest tells the control plane."""

    VERSION = '1.1'

    def __init__(self, context):
        self.context = context
        # Sealed with this guest's key; the conductor finds the key by the
        # envelope's key id (our instance id).
        self.client = rpc.get_client(CONF.conductor_queue, self.VERSION,
                                     serializer=rpc_crypto.guest_serializer())

    def heartbeat(self, *, instance_id, payload, sent=None):
        """Report the service status; ``sent`` orders heartbeats at the conductor."""
        self.client.prepare(version='1.0').cast(
            self.context, 'heartbeat', instance_id=instance_id, payload=payload,
            sent=sent if sent is not None else time.time())

    def notify_exc_info(self, *, instance_id, message, details=None):
        """Report an error the guest hit; the conductor stores it as the fault."""
        self.client.prepare(version='1.0').cast(
            self.context, 'notify_exc_info', instance_id=instance_id,
            message=message, details=details, sent=time.time())

    def update_backup(self, *, instance_id, backup_id, sent=None, **fields):
        """Report a backup's progress or result (state, size, checksum, location...)."""
        self.client.prepare(version='1.1').cast(
            self.context, 'update_backup', instance_id=instance_id, backup_id=backup_id,
            sent=sent if sent is not None else time.time(), **fields)
