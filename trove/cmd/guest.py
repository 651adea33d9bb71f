"""trove-guestagent: runs beside one database engine.

Started with ``--config-dir`` pointing at the injected conf.d (guest_info.conf,
trove-guestagent.conf and, on the local driver, server.conf).
"""
import sys

from trove.common import service
from trove.conf import CONF


def main():
    service.prepare_service(sys.argv, project='trove-guestagent')
    if not CONF.guest_id or not CONF.datastore_manager:
        sys.exit('guest_id and datastore_manager must be set (guest_info.conf)')
    from trove.common import rpc_crypto
    from trove.guestagent import manager
    from trove.guestagent.rpcapi import guest_topic
    mgr = manager.Manager()
    # Build what does not depend on the request while we connect and wait.
    mgr.start_warm_up()
    beat = service.Periodic(mgr.report, CONF.report_interval, 'heartbeat')
    service.serve(guest_topic(CONF.guest_id), CONF.guest_id, [mgr], periodics=[beat],
                  on_start=mgr.recover, serializer=rpc_crypto.guest_serializer())


if __name__ == '__main__':
    main()
