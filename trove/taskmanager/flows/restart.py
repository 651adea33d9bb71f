"""Restart the database engine of an instance (task REBOOTING).

The API claimed the instance (NONE or RESTART_REQUIRED -> REBOOTING) and set
the service status to RESTARTING.  The guest restarts the engine within the
high call timeout; the stored service status is then refreshed from the
guest, which is what clears RESTART_REQUIRED.  The task always ends in NONE;
a failure leaves a fault the user can read.

A reboot (mgmt) also power-cycles the server: stop the engine, reboot the
server through the compute driver and wait until the rebooted guest
reports a running engine.
"""
import time

from oslo_log import log as logging

from trove.common import exception
from trove.common import states
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import failovers
from trove.db import models
from trove.db import task_requests
from trove.guestagent import rpcapi as guest_rpcapi

LOG = logging.getLogger(__name__)
Task = states.InstanceTask
Status = states.ServiceStatus


def refresh_status(guest, instance_id):
    """Store the status the guest reports now; UNKNOWN when it does not answer."""
    try:
        status = Status.from_description(guest.get_status())
    except Exception as exc:
        LOG.warning('Could not read the status of %s: %s', instance_id, exc)
        status = Status.UNKNOWN
    db_api.set_service_status(instance_id, status)
    return status


def finish(instance_id, task, fault=None, action=None):
    """End ``task`` in NONE, recording ``fault`` when the work failed.

    ``action`` names the stored request of the task (task_requests): it is
    dropped, its charged quota given back when the task failed.
    """
    if action is not None:
        task_requests.finish(instance_id, refund=bool(fault), action=action)
    if fault:
        db_api.save_fault(instance_id, fault)
    if not db_api.set_task(instance_id, Task.NONE, expected=task):
        LOG.info('Instance %s left %s while it ran (deleted?)', instance_id, task.name)


def _error_text(exc):
    return getattr(exc, 'msg', None) or str(exc) or type(exc).__name__


def restart(context, instance_id):
    """Run a restart claimed by the API; always ends in task NONE."""
    guest = guest_rpcapi.GuestAPI(context, instance_id)
    fault = None
    try:
        guest.restart()
        LOG.info('Instance %s restarted', instance_id)
    except Exception as exc:
        LOG.exception('Restart of %s failed', instance_id)
        fault = 'Restart failed: %s' % _error_text(exc)
    refresh_status(guest, instance_id)
    finish(instance_id, Task.REBOOTING, fault, action='restart')


class TaskChanged(Exception):
    """The instance left the task being waited in (a delete moved it on)."""


def wait_for_running(instance_id, since, timeout, task=None):
    """Until the guest reports a running engine in a heartbeat newer than
    ``since``; returns the status, or None when ``timeout`` ran out.  With
    ``task``, raises TaskChanged as soon as the instance is no longer in it:
    a delete never waits behind the wait."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if task is not None:
            try:
                current = Task.from_code(db_api.get_instance(instance_id).task_id)
            except exception.InstanceNotFound:
                current = None
            if current is not task:
                raise TaskChanged(instance_id)
        row = db_api.get_service_status(instance_id)
        if row is not None and row.updated_at is not None and row.updated_at >= since:
            status = Status.from_code(row.status_id)
            if status in states.RUNNING_SERVICE:
                return status
        time.sleep(CONF.usage_sleep_time)
    return None


def reboot(context, driver, instance_id):
    """Run a reboot claimed by the mgmt API; always ends in task NONE."""
    guest = guest_rpcapi.GuestAPI(context, instance_id)
    fault = None
    try:
        inst = db_api.get_instance(instance_id)
        try:
            if (db_api.guest_silent(db_api.get_service_status(instance_id))
                    or driver.agent_fault(inst.compute_instance_id)):
                # Nobody would answer: the power-off stops the engine (SIGTERM).
                LOG.info('Guest of %s is silent or dead; rebooting without stop_db',
                         instance_id)
            else:
                guest.stop_db()
        except Exception as exc:
            # A hung engine or agent is what a reboot is for: go on.
            LOG.warning('Stopping the engine of %s before the reboot failed: %s',
                        instance_id, exc)
        since = models.utcnow()
        driver.reboot_server(inst.compute_instance_id)
        server = driver.get_server(inst.compute_instance_id)
        db_api.update_instance(instance_id, server_status=server.status)
        if server.status != 'ACTIVE':
            raise RuntimeError('the server is %s after the reboot' % server.status)
        if failovers.rejoin_pending(instance_id):
            # A fenced old primary: its guest keeps the engine down until
            # the rejoin (trove.taskmanager.rejoin) makes it a replica.
            LOG.info('Instance %s rebooted; it rejoins its replica set next', instance_id)
            finish(instance_id, Task.REBOOTING, None, action='reboot')
            return
        timeout = CONF.reboot_time_out + CONF.state_change_wait_time
        status = wait_for_running(instance_id, since, timeout, task=Task.REBOOTING)
        if status is None:
            fault = ('Reboot: the guest did not report a running database within %d '
                     'seconds.' % timeout)
        else:
            LOG.info('Instance %s rebooted; database %s', instance_id, status.description)
    except TaskChanged:
        LOG.info('Instance %s left REBOOTING while its reboot waited (deleted?)',
                 instance_id)
        task_requests.finish(instance_id, action='reboot')
        return
    except Exception as exc:
        LOG.exception('Reboot of %s failed', instance_id)
        fault = 'Reboot failed: %s' % _error_text(exc)
    if fault:
        refresh_status(guest, instance_id)
    finish(instance_id, Task.REBOOTING, fault, action='reboot')
