"""trove-taskmanager: long-running work on instances."""
import sys

from trove.common import service
from trove.conf import CONF


def main():
    service.prepare_service(sys.argv, binary='trove-taskmanager')
    from trove.common import rpc_crypto
    from trove.taskmanager import agent_faults
    from trove.taskmanager import manager
    from trove.taskmanager import spares
    from trove.taskmanager.flows import backup as backup_flow
    mgr = manager.Manager()
    # Ends backups whose guest went silent; also covers backups a previous
    # taskmanager process was watching.
    watchdog = service.Periodic(backup_flow.watchdog,
                                max(1, min(10, CONF.backup.stall_timeout // 3)),
                                'backup-watchdog')
    periodics = [watchdog]
    if agent_faults.wanted(mgr.driver):
        periodics.append(service.Periodic(lambda: agent_faults.surface(mgr.driver), 5,
                                          'agent-faults'))
    if spares.wanted() and mgr.driver.supports_spares:
        # Cheap when the pools are full (a directory listing), so a claimed
        # spare is replaced within a second.
        periodics.append(service.Periodic(lambda: spares.refill(mgr.driver), 1,
                                          'spare-pool', initial_delay=0))
    service.serve(CONF.taskmanager_queue, CONF.host, [mgr], on_start=mgr.recover,
                  serializer=rpc_crypto.taskmanager_serializer(), periodics=periodics)


if __name__ == '__main__':
    main()
