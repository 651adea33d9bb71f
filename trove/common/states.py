"""Instance task states, service statuses and their allowed transitions.

The numeric codes and descriptions follow upstream Trove so the database
contents and the guest heartbeat payloads read the same.  Every change of an
instance's task goes through :func:`trove.db.api.set_task` which checks
:data:`TASK_TRANSITIONS` here.
"""
import enum


class InstanceTask(enum.Enum):
    """Task of an instance: what the control plane is doing with it."""

    NONE = (0x01, 'NONE', 'No tasks for the instance.', False)
    DELETING = (0x02, 'DELETING', 'Deleting the instance.', False)
    REBOOTING = (0x03, 'REBOOTING', 'Rebooting the instance.', False)
    RESIZING = (0x04, 'RESIZING', 'Resizing the instance.', False)
    BUILDING = (0x05, 'BUILDING', 'The instance is building.', False)
    RESTART_REQUIRED = (0x07, 'RESTART_REQUIRED', 'Instance requires a restart.', False)
    PROMOTING = (0x08, 'PROMOTING', 'Promoting the instance to replica source.', False)
    EJECTING = (0x09, 'EJECTING', 'Ejecting the replica source.', False)
    DETACHING = (0x0b, 'DETACHING', 'Detaching the instance from replica source.', False)
    BUILDING_ERROR_SERVER = (0x51, 'BUILDING', 'Build error: Server.', True)
    BUILDING_ERROR_VOLUME = (0x52, 'BUILDING', 'Build error: Volume.', True)
    BUILDING_ERROR_SEC_GROUP = (0x53, 'BUILDING', 'Build error: Secgroup or rule.', True)
    BUILDING_ERROR_REPLICA = (0x54, 'BUILDING', 'Build error: Replica.', True)
    UPGRADING = (0x59, 'UPGRADING', 'Upgrading the instance.', False)
    UPGRADING_ERROR = (0x5a, 'UPGRADING', 'Upgrading the instance failed.', True)
    BUILDING_ERROR_TIMEOUT_GA = (0x5b, 'ERROR', 'Build error: guestagent timeout.', True)

    def __init__(self, code, action, db_text, is_error):
        self.code = code
        self.action = action
        self.db_text = db_text
        self.is_error = is_error

    @classmethod
    def from_code(cls, code):
        for task in cls:
            if task.code == code:
                return task
        raise ValueError('unknown task code %r' % code)


class ServiceStatus(enum.Enum):
    """Status of the database service, as reported by the guest."""

    RUNNING = (0x01, 'running', 'ACTIVE', True)
    BLOCKED = (0x02, 'blocked', 'BLOCKED', True)
    SHUTDOWN = (0x04, 'shutdown', 'SHUTDOWN', True)
    DELETED = (0x05, 'deleted', 'DELETED', False)
    CRASHED = (0x06, 'crashed', 'SHUTDOWN', True)
    FAILED = (0x08, 'failed to spawn', 'FAILED', False)
    BUILDING = (0x09, 'building', 'BUILD', False)
    UNKNOWN = (0x16, 'unknown', 'ERROR', False)
    NEW = (0x17, 'new', 'NEW', False)
    FAILED_TIMEOUT_GUESTAGENT = (0x18, 'guestagent error', 'ERROR', False)
    INSTANCE_READY = (0x19, 'instance ready', 'BUILD', False)
    RESTART_REQUIRED = (0x20, 'restart required', 'RESTART_REQUIRED', True)
    HEALTHY = (0x21, 'healthy', 'HEALTHY', True)
    RESTARTING = (0x22, 'restarting', 'RESTARTING', False)
    # A replica whose stream is down (guestagent/replication_report.py): the
    # engine runs and answers, but no longer follows its primary.
    REPLICATION_BROKEN = (0x23, 'replication broken', 'ERROR', True)

    def __init__(self, code, description, api_status, action_is_allowed):
        self.code = code
        self.description = description
        self.api_status = api_status
        self.action_is_allowed = action_is_allowed

    @classmethod
    def from_code(cls, code):
        for status in cls:
            if status.code == code:
                return status
        raise ValueError('unknown service status code %r' % code)

    @classmethod
    def from_description(cls, description):
        for status in cls:
            if status.description == description:
                return status
        raise ValueError('unknown service status %r' % description)


T = InstanceTask
_ANY = frozenset(T)

# Which task may follow which.  DELETING is reachable from everywhere because
# delete must always work; error states are terminal except for delete and
# an admin reset back to NONE.
TASK_TRANSITIONS = {
    T.NONE: frozenset({T.DELETING, T.REBOOTING, T.RESIZING, T.RESTART_REQUIRED,
                       T.UPGRADING, T.PROMOTING, T.EJECTING, T.DETACHING, T.NONE}),
    T.BUILDING: frozenset({T.NONE, T.DELETING, T.BUILDING_ERROR_SERVER,
                           T.BUILDING_ERROR_VOLUME, T.BUILDING_ERROR_SEC_GROUP,
                           T.BUILDING_ERROR_TIMEOUT_GA, T.BUILDING_ERROR_REPLICA}),
    # Replication tasks (taskmanager flows/replication.py) end in NONE; a
    # failure leaves a fault.
    T.PROMOTING: frozenset({T.NONE, T.DELETING}),
    T.EJECTING: frozenset({T.NONE, T.DELETING}),
    T.DETACHING: frozenset({T.NONE, T.DELETING}),
    T.BUILDING_ERROR_REPLICA: frozenset({T.DELETING, T.NONE}),
    T.DELETING: frozenset({T.DELETING, T.NONE}),
    # Back to RESTART_REQUIRED only when the cast of the work could not be sent.
    T.REBOOTING: frozenset({T.NONE, T.DELETING, T.RESTART_REQUIRED}),
    T.RESIZING: frozenset({T.NONE, T.DELETING, T.RESTART_REQUIRED}),
    # A restart or a resize restarts the engine, which is what RESTART_REQUIRED
    # waits for; another configuration change keeps it.
    T.RESTART_REQUIRED: frozenset({T.NONE, T.REBOOTING, T.RESIZING, T.DELETING,
                                   T.UPGRADING, T.PROMOTING, T.EJECTING, T.DETACHING,
                                   T.RESTART_REQUIRED}),
    # Upgrade and rebuild (a new server image, the volume kept); a guest that
    # never comes back on the new image ends in UPGRADING_ERROR.
    T.UPGRADING: frozenset({T.NONE, T.DELETING, T.UPGRADING_ERROR}),
    T.UPGRADING_ERROR: frozenset({T.DELETING, T.NONE}),
    T.BUILDING_ERROR_SERVER: frozenset({T.DELETING, T.NONE}),
    T.BUILDING_ERROR_VOLUME: frozenset({T.DELETING, T.NONE}),
    T.BUILDING_ERROR_SEC_GROUP: frozenset({T.DELETING, T.NONE}),
    T.BUILDING_ERROR_TIMEOUT_GA: frozenset({T.DELETING, T.NONE}),
}


def check_task_transition(old, new):
    """Return True when an instance may move from task ``old`` to ``new``."""
    return new in TASK_TRANSITIONS.get(old, _ANY)


# The server statuses an instance can show, in the order the API checks them.
RUNNING_SERVICE = frozenset({ServiceStatus.RUNNING, ServiceStatus.HEALTHY,
                             ServiceStatus.INSTANCE_READY})
WAITING_SERVICE = frozenset({ServiceStatus.NEW, ServiceStatus.BUILDING,
                             ServiceStatus.UNKNOWN})


class BackupState:
    """``backups.state`` values (upstream strings) and which ones are final."""

    NEW = 'NEW'
    BUILDING = 'BUILDING'
    SAVING = 'SAVING'
    COMPLETED = 'COMPLETED'
    FAILED = 'FAILED'
    DELETE_FAILED = 'DELETE_FAILED'
    RUNNING = frozenset({NEW, BUILDING, SAVING})
    END = frozenset({COMPLETED, FAILED, DELETE_FAILED})
