"""trove-conductor: applies guest reports to the database."""
import sys

from trove.common import service
from trove.conf import CONF


def main():
    service.prepare_service(sys.argv, binary='trove-conductor')
    from trove.common import rpc_crypto
    from trove.conductor import manager
    service.serve(CONF.conductor_queue, CONF.host, [manager.Manager()],
                  serializer=rpc_crypto.conductor_serializer())


if __name__ == '__main__':
    main()
