"""The writer address of a highly available replica set.

One address per set that always leads to its primary (compute driver
``point_writer_address``: a forwarder on a loopback address of its own with
the local driver), so clients reconnect to the same host:port after a
failover or a switchover.  It is made when the set becomes highly available
(flows/high_availability.apply), moved to the new primary as soon as it
takes writes (flows/failover.py, flows/replication.promote) and removed when
the set stops being highly available or its primary is deleted.  Instance
show reports it beside each member's own address.  A driver without writer
addresses leaves it None; a failure to move it is a fault on the set's
primary, never a failed failover (the members' own addresses still work).
"""
from oslo_log import log as logging

from trove.db import api as db_api
from trove.db import datastores
from trove.db import replicas
from trove.taskmanager.flows import access
from trove.taskmanager.flows import restart as restart_flow

LOG = logging.getLogger(__name__)


def _ports(inst):
    version = datastores.get_version_by_id(inst.datastore_version_id)
    return [access.datastore_port(version.manager)]


def point(driver, primary_id, set_id=None):
    """Lead the set's writer address to ``primary_id``; returns it (None
    when the driver has none or it failed, with a fault saying so)."""
    if set_id is None:
        set_id, _ = replicas.writer_of(primary_id)
    inst = db_api.get_instance(primary_id)
    try:
        address = driver.point_writer_address(set_id, inst.compute_instance_id,
                                              _ports(inst))
    except Exception as exc:
        LOG.exception('Writer address of the set of %s could not be moved', primary_id)
        db_api.save_fault(primary_id, 'The writer address of the replica set could not be '
                          'pointed at this instance: %s' % restart_flow._error_text(exc))
        return None
    if address:
        replicas.set_writer_address(set_id, address)
        LOG.info('Writer address %s leads to %s', address, primary_id)
    return address


def move(driver, set_id, new_primary_id):
    """After a promotion: a set that has a writer address gets it moved to
    ``new_primary_id`` (no-op without a driver or an address)."""
    if driver is None or set_id is None or replicas.writer_address(set_id) is None:
        return None
    return point(driver, new_primary_id, set_id)


def release(driver, primary_id):
    """Remove the writer address of the set of ``primary_id`` (if any)."""
    set_id, address = replicas.writer_of(primary_id)
    if set_id is None or address is None:
        return
    try:
        driver.release_writer_address(set_id)
    except Exception:
        LOG.exception('Could not remove writer address %s', address)
        return
    replicas.set_writer_address(set_id, None)
    LOG.info('Writer address %s of the set of %s removed', address, primary_id)
