"""Who may reach an instance's database port: its ``access`` setting applied.

``instances.access`` holds ``{"is_public": bool, "allowed_cidrs": [...]}``
as the API stored it.  The compute driver turns it into network rules
(nova: a security group; local: nothing to filter on loopback).  The build
applies it once the server exists (see create.py); a later change through
``PUT /instances/{id}`` arrives here as the ``update_access`` cast.
"""
import json

from oslo_log import log as logging
from sqlalchemy import select

from trove.common import exception, states, template
from trove.compute import base
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import datastores, models
from trove.db.session import reader

LOG = logging.getLogger(__name__)

# Without allowed_cidrs the port is open to everyone, as upstream does.
DEFAULT_CIDRS = ('0.0.0.0/0',)


def datastore_port(manager):
    """The TCP port of ``manager``'s engine: ``CONF[<its family>].port``."""
    try:
        return int(CONF[template.family(manager)].port)
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise exception.ComputeError(
            detail='no port is known for datastore manager %r' % manager) from exc


def allowed_cidrs(access_json):
    """The CIDRs of a stored ``access`` value (JSON text or None)."""
    access = json.loads(access_json) if access_json else {}
    return list(access.get('allowed_cidrs') or DEFAULT_CIDRS)


def apply(driver, inst, server_id, manager):
    """Apply the instance's stored access to ``server_id``; driver errors propagate."""
    ports = [datastore_port(manager)]
    cidrs = allowed_cidrs(inst.access)
    driver.apply_access(server_id=server_id, instance_id=inst.id, ports=ports, cidrs=cidrs)
    LOG.info('Instance %s: port %s open to %s', inst.id, ports[0], ', '.join(cidrs))


def update_access(context, driver, instance_id):
    """Re-apply an instance's stored access (the ``update_access`` cast).

    The instance stays usable whatever happens: a failure is logged and
    saved as its fault for the user to read, and the task is not changed.
    """
    try:
        inst = db_api.get_instance(instance_id)
    except exception.InstanceNotFound:
        LOG.info('Instance %s is gone; its access is not applied', instance_id)
        return
    if not inst.compute_instance_id:
        # The build applies the stored access once it has a server.
        LOG.info('Instance %s has no server yet; access applied when built', instance_id)
        return
    try:
        manager = datastores.get_version_by_id(inst.datastore_version_id).manager
        apply(driver, inst, inst.compute_instance_id, manager)
    except Exception as exc:
        LOG.exception('Applying the access of instance %s failed', instance_id)
        db_api.save_fault(instance_id, 'Access update failed: %s' % exc)


def reapply_all(context, driver, lock):
    """After a taskmanager restart: apply the stored access of every instance again.

    An ``update_access`` cast claims no task, so one lost with the previous
    process would leave the server's rules behind the stored setting.
    Applying is idempotent, so all instances with a stored access get it
    again, each under its instance ``lock``.  Drivers that filter nothing
    (local) are skipped.
    """
    if type(driver).apply_access is base.ComputeDriver.apply_access:
        return
    with reader() as session:
        ids = session.scalars(select(models.Instance.id).where(
            models.Instance.deleted.is_(False), models.Instance.access.is_not(None),
            models.Instance.compute_instance_id.is_not(None),
            models.Instance.task_id == states.InstanceTask.NONE.code)).all()
    for instance_id in ids:
        with lock(instance_id):
            update_access(context, driver, instance_id)
