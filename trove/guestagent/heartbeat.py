"""Heartbeats from the guest to the conductor."""
import time

from oslo_log import log as logging

from trove.common import context as trove_context
from trove.conductor import rpcapi as conductor_rpcapi
from trove.conf import CONF

LOG = logging.getLogger(__name__)


class Reporter:
    """Sends the engine's status, each with the time it was taken (``sent``:
    the conductor keeps the report with the newest)."""

    def __init__(self):
        self.conductor = conductor_rpcapi.ConductorAPI(trove_context.admin_context())
        self.last = None

    def send(self, status_description, replication=None, sent=None, archive_latest=None):
        """``replication`` is a replica's stream report (replication_report),
        None otherwise (the conductor then forgets an older one); ``sent``
        is when the status was read, now by default; ``archive_latest`` the
        newest time the continuous archive holds (ISO 8601), when archiving."""
        sent = time.time() if sent is None else sent
        payload = {'service_status': status_description, 'replication': replication}
        if archive_latest:
            payload['archive_latest'] = archive_latest
        self.conductor.heartbeat(instance_id=CONF.guest_id, payload=payload, sent=sent)
        if status_description != self.last:
            LOG.info('Reported service status %r', status_description)
        self.last = status_description

    def error(self, message, details=None):
        self.conductor.notify_exc_info(instance_id=CONF.guest_id, message=message,
                                       details=details)
