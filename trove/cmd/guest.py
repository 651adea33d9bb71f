"""trove-guestagent: runs beside one database engine.

Started with ``--config-dir`` pointing at the injected conf.d (guest_info.conf,
trove-guestagent.conf and, on the local driver, server.conf).  With
``spare = true`` and no ``guest_id`` the agent first runs as a spare (see
trove.guestagent.spare) until the compute driver hands it an identity.
"""
import sys

from trove.common import service
from trove.conf import CONF


def main():
    service.prepare_service(sys.argv, project='trove-guestagent', binary='trove-guestagent')
    if not CONF.datastore_manager or not (CONF.guest_id or CONF.spare):
        sys.exit('guest_id and datastore_manager must be set (guest_info.conf)')
    spare = engine = warm = None
    if not CONF.guest_id:
        from trove.guestagent import spare as spare_mod
        spare = spare_mod.run_until_claimed()
        engine = spare.engine
    else:
        # Build what does not depend on the request (install-db) while the
        # rest of the agent loads, connects and waits for prepare.
        from trove.guestagent import engines, warm_up
        engine = engines.load_engine(CONF.datastore_manager)
        warm = warm_up.start_early(engine)
    from trove.common import rpc_crypto
    from trove.guestagent import manager
    from trove.guestagent.rpcapi import guest_topic
    mgr = manager.Manager(engine=engine, spare=spare, warm=warm)
    beat = service.Periodic(mgr.report, CONF.report_interval, 'heartbeat')
    periodics = [beat]
    if CONF.engine_restart_limit > 0:
        periodics.append(service.Periodic(mgr.watch.check, CONF.engine_watch_interval,
                                          'engine-watch'))
    service.serve(guest_topic(CONF.guest_id), CONF.guest_id, [mgr], periodics=periodics,
                  on_start=mgr.recover, serializer=rpc_crypto.guest_serializer())


if __name__ == '__main__':
    main()
