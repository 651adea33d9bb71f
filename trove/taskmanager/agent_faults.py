"""Show on the instance when the compute driver gave up on its guest agent.

The local driver supervises agents (trove.compute.local_supervisor): a dead
agent comes back within a second, but one that keeps dying is left down
after a few restarts.  This periodic job turns that into something the user
and the operator see: the instance's server status becomes ERROR (so its
``status`` is ERROR) and its fault says why.  The admin reboot repairs it
(a fresh supervisor; the reboot flow stores the new server status).

Detection belongs here because the taskmanager is the side that sees the
compute driver; drivers whose agents systemd supervises (nova) report no
such faults, and the job is not started for them.
"""
from oslo_log import log as logging
from sqlalchemy import select

from trove.common import states
from trove.db import api as db_api
from trove.db import models
from trove.db.session import reader

LOG = logging.getLogger(__name__)


def wanted(driver):
    """Whether ``driver`` can report agent faults at all."""
    return getattr(driver, 'supervises_agents', False)


def _candidates():
    """(instance id, server id) of idle instances whose server is not known bad."""
    with reader() as session:
        return session.execute(
            select(models.Instance.id, models.Instance.compute_instance_id)
            .where(models.Instance.deleted.is_(False),
                   models.Instance.compute_instance_id.is_not(None),
                   models.Instance.task_id == states.InstanceTask.NONE.code,
                   models.Instance.server_status != 'ERROR')).all()


def surface(driver):
    """Periodic: record the agent faults the driver reports; returns the instance ids."""
    flagged = []
    for instance_id, server_id in _candidates():
        try:
            fault = driver.agent_fault(server_id)
        except Exception as exc:
            LOG.warning('Could not read the agent state of %s: %s', instance_id, exc)
            continue
        if not fault:
            continue
        # One transaction: an instance in ERROR always shows why.
        db_api.save_fault(instance_id, 'The guest agent keeps dying: %s. An '
                                       'administrator reboot restarts it.' % fault,
                          server_status='ERROR')
        flagged.append(instance_id)
    return flagged
