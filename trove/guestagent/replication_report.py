"""What a replica's heartbeat says about its stream (lag, broken or not).

A replica that cannot follow its primary must not look HEALTHY: once its
stream has been down for ``replication_broken_after`` seconds the heartbeat
reports the service status ``replication broken`` (API status ERROR) and
the engine's own reason becomes the instance's fault; when the stream is
back the next heartbeat is HEALTHY again.  A shorter outage (the primary
restarting, a reconnect) is a blip and changes nothing.  Primaries and
standalone instances report nothing here.
"""
import time

from oslo_log import log as logging

from trove.conf import CONF
from trove.guestagent.engines import replication as base

LOG = logging.getLogger(__name__)

BROKEN = 'replication broken'


class StreamReport:
    """Tracks since when this replica's stream is down."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.down_since = None
        self.reported_broken = False

    def read(self, engine):
        """``{following, lag, healthy, broken, error}`` of a replica, or None
        (not a replica, no replication support, status unreadable)."""
        try:
            st = engine.replication.status()
        except Exception as exc:
            LOG.debug('No replication status: %s', exc)
            return None
        if st.get('role') != base.REPLICA:
            self.down_since, self.reported_broken = None, False
            return None
        now = self.clock()
        if st['healthy']:
            self.down_since = None
        elif self.down_since is None:
            self.down_since = now
        broken = (self.down_since is not None
                  and now - self.down_since >= CONF.replication_broken_after)
        return {'following': st.get('following'), 'lag': st.get('lag'),
                'healthy': bool(st['healthy']), 'broken': broken,
                'error': None if st['healthy'] else st.get('error')}

    def newly_broken(self, report):
        """True once per outage, when a stream first counts as broken."""
        broken = bool(report and report['broken'])
        first = broken and not self.reported_broken
        self.reported_broken = broken
        return first
