"""Delete an instance: stop the engine, delete server, access rules and volume,
then purge the records.

Every step is best effort: an instance in any state, half-built or broken,
can be deleted.
"""
from oslo_log import log as logging

from trove.common import exception
from trove.common import rpc
from trove.common import states
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backup_schedules
from trove.guestagent import rpcapi as guest_rpcapi
from trove.taskmanager import archive_retention
from trove.taskmanager.flows import writer

LOG = logging.getLogger(__name__)


def _stop_engine(context, inst):
    """Shut the engine down cleanly when its guest is known to be alive."""
    row = db_api.get_service_status(inst.id)
    if (not inst.compute_instance_id or row is None or
            states.ServiceStatus.from_code(row.status_id) not in states.RUNNING_SERVICE):
        return
    try:
        guest = guest_rpcapi.GuestAPI(context, inst.id)
        guest.client.prepare(timeout=min(CONF.agent_call_low_timeout, 10)).call(
            context, 'stop_db')
    except Exception as exc:
        LOG.info('Could not stop the engine of %s cleanly (%s); powering off',
                 inst.id, exc.__class__.__name__)


def _find_servers(driver, inst):
    """Server ids of the instance, including one created but not yet recorded."""
    ids = {inst.compute_instance_id} if inst.compute_instance_id else set()
    for server in driver.list_servers():
        if server.metadata.get('trove_instance_id') == inst.id:
            ids.add(server.id)
    return ids


def delete_instance(context, driver, instance_id):
    """Remove everything the instance has; records go last."""
    try:
        inst = db_api.get_instance(instance_id)
    except exception.InstanceNotFound:
        LOG.info('Instance %s already deleted', instance_id)
        return
    _stop_engine(context, inst)
    failed = []
    if not inst.slave_of_id:
        writer.release(driver, instance_id)
    for server_id in _find_servers(driver, inst):
        try:
            driver.delete_server(server_id)
        except Exception as exc:
            LOG.exception('Deleting server %s of %s failed', server_id, instance_id)
            failed.append('server %s: %s' % (server_id, exc))
    try:
        # After the servers: a security group still in use cannot be deleted.
        driver.release_access(instance_id)
    except Exception as exc:
        LOG.exception('Releasing the access rules of %s failed', instance_id)
        failed.append('access rules: %s' % exc)
    if inst.volume_id:
        try:
            driver.delete_volume(inst.volume_id)
        except Exception as exc:
            LOG.exception('Deleting volume %s of %s failed', inst.volume_id, instance_id)
            failed.append('volume %s: %s' % (inst.volume_id, exc))
    if failed:
        db_api.save_fault(instance_id, 'Delete incomplete: %s' % '; '.join(failed)[:200])
        return
    _delete_guest_queues(instance_id)
    backup_schedules.delete_of_instance(instance_id)   # its backups stay
    db_api.purge_instance(instance_id)
    # Its archive stays while a kept backup can restore to a time with it.
    archive_retention.prune_quietly(instance_id)


def _delete_guest_queues(instance_id):
    topic = guest_rpcapi.guest_topic(instance_id)
    try:
        rpc.delete_queues([topic, '%s.%s' % (topic, instance_id)])
    except Exception as exc:
        LOG.warning('Could not delete the queues of %s: %s', instance_id, exc)
