"""Whether an instance can take work now: the checks the API and the
taskmanager's schedules share.

:func:`refuse_silent_guest` refuses (422) work for a guest that has not
reported within agent_heartbeat_expiry, with the same message everywhere;
:func:`check_actionable` is the gate of a backup: the instance is ACTIVE and
idle, and its database service answers and reports.
"""
from trove.common import exception, states
from trove.db import api as db_api

Task = states.InstanceTask


def refuse_silent_guest(instance_id, service=None):
    """422 when the guest has not reported within agent_heartbeat_expiry.

    ``service`` is the instance's service status row when already loaded.
    The admin reboot does not pass here: it is the repair for such a guest.
    """
    if service is None:
        service = db_api.get_service_status(instance_id)
    if db_api.guest_silent(service):
        raise exception.UnprocessableEntity(
            detail='instance %s is not ready: its guest agent has not reported '
                   'recently.' % instance_id)


def check_actionable(inst):
    """422 unless the instance is ACTIVE, idle and its service answers and reports."""
    task = Task.from_code(inst.task_id)
    service = db_api.get_service_status(inst.id)
    status = states.ServiceStatus.from_code(service.status_id) if service else None
    if (task not in (Task.NONE, Task.RESTART_REQUIRED)
            or (inst.server_status or '').upper() not in ('ACTIVE', 'HEALTHY')
            or status is None or not status.action_is_allowed):
        raise exception.InstanceNotAvailable(instance_id=inst.id, task=task.action)
    refuse_silent_guest(inst.id, service)
