"""Option listings for oslo-config-generator."""
from trove.conf import api, backup, coordination, default, failover, guest, guest_log, local
from trove.conf import mariadb
from trove.conf import postgresql, quota, redis, security, service_credentials


def list_opts():
    """Options of the controller services (trove.conf)."""
    return [('DEFAULT', default.opts + api.opts + service_credentials.compute_opts + quota.opts
             + security.controller_opts + guest_log.opts),
            (local.group, local.opts),
            (service_credentials.group, service_credentials.opts),
            (backup.group, backup.opts),
            (coordination.group, coordination.opts),
            (failover.group, failover.opts)]


def list_guest_opts():
    """Options of the guest agent (trove-guestagent.conf)."""
    return [('DEFAULT', guest.opts + security.guest_opts + guest_log.opts),
            (mariadb.group, mariadb.opts),
            (backup.group, backup.opts), (postgresql.group, postgresql.opts),
            (redis.group, redis.opts)]
