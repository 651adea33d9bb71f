"""trove-conductor: applies guest reports to the database."""
import sys

from trove.common import service
from trove.conf import CONF


def main():
    service.prepare_service(sys.argv, binary='trove-conductor')
    from trove.common import rpc_crypto
    from trove.conductor import manager
    endpoint = manager.Manager(batch_window=CONF.heartbeat_batch_window)
    try:
        service.serve(CONF.conductor_queue, CONF.host, [endpoint],
                      serializer=rpc_crypto.conductor_serializer())
    finally:
        # The RPC server has stopped: apply the heartbeats still pending.
        endpoint.stop()


if __name__ == '__main__':
    main()
