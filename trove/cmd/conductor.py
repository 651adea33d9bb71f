"""trove-conductor: applies guest reports to the database."""
import sys

from oslo_log import log as logging

from trove.common import service
from trove.conf import CONF

LOG = logging.getLogger(__name__)


def _preload_keys():
    """Cache the guests' keys in one query (a thread of its own: heartbeats
    arriving meanwhile look their key up one by one)."""
    from trove.common import rpc_crypto
    try:
        LOG.info('Cached the RPC keys of %d instances', rpc_crypto.preload_instance_keys())
    except Exception:
        LOG.exception('Could not preload the instance RPC keys; they are read one by one')


def main():
    service.prepare_service(sys.argv, binary='trove-conductor')
    from trove.common import rpc_crypto
    from trove.conductor import manager
    endpoint = manager.Manager(batch_window=CONF.heartbeat_batch_window)
    try:
        service.serve(CONF.conductor_queue, CONF.host, [endpoint],
                      serializer=rpc_crypto.conductor_serializer(), on_start=_preload_keys)
    finally:
        # The RPC server has stopped: apply the heartbeats still pending.
        endpoint.stop()


if __name__ == '__main__':
    main()
