"""trove-taskmanager: long-running work on instances."""
import atexit
import sys

from trove.common import service
from trove.conf import CONF


def main():
    service.prepare_service(sys.argv, binary='trove-taskmanager')
    from trove.common import coordination
    from trove.common import rpc_crypto
    from trove.taskmanager import agent_faults
    from trove.taskmanager import backup_schedules
    from trove.taskmanager import failover_watch
    from trove.taskmanager import manager
    from trove.taskmanager import rejoin
    from trove.taskmanager import spares
    from trove.taskmanager import takeover
    from trove.taskmanager.flows import backup as backup_flow
    # Several taskmanagers: join the group before taking casts, so the
    # tasks this process starts are never mistaken for a dead member's.
    coordination.start()
    atexit.register(coordination.stop)
    mgr = manager.Manager()
    led = coordination.led
    # Ends backups whose guest went silent; also covers backups a previous
    # taskmanager process was watching.
    watchdog = service.Periodic(led('backup-watchdog', backup_flow.watchdog),
                                max(1, min(10, CONF.backup.stall_timeout // 3)),
                                'backup-watchdog')
    periodics = [watchdog, service.Periodic(
        led('failover-watch', lambda: failover_watch.check(mgr)),
        CONF.failover.check_interval, 'failover-watch'), service.Periodic(
        led('failover-rejoin', lambda: rejoin.check(mgr)),
        CONF.failover.rejoin_interval, 'failover-rejoin'), service.Periodic(
        led('backup-schedules', backup_schedules.check), CONF.backup.schedule_interval,
        'backup-schedules')]
    if agent_faults.wanted(mgr.driver):
        periodics.append(service.Periodic(
            led('agent-faults', lambda: agent_faults.surface(mgr.driver)), 5, 'agent-faults'))
    if spares.wanted() and mgr.driver.supports_spares:
        # Cheap when the pools are full (a directory listing), so a claimed
        # spare is replaced within a second.
        periodics.append(service.Periodic(
            led('spare-pool', lambda: spares.refill(mgr.driver)), 1, 'spare-pool',
            initial_delay=0))
    if coordination.enabled():
        interval = CONF.coordination.takeover_interval
        periodics.append(service.Periodic(lambda: takeover.scan(mgr), interval, 'takeover'))
        periodics.append(service.Periodic(led('backup-resend', takeover.resend_backups),
                                          interval, 'backup-resend'))
    service.serve(CONF.taskmanager_queue, CONF.host, [mgr], on_start=mgr.recover,
                  serializer=rpc_crypto.taskmanager_serializer(), periodics=periodics)


if __name__ == '__main__':
    main()
