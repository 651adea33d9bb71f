"""Resize an instance's flavor or volume (task RESIZING).

Flavor: stop the engine, move the server to the new flavor, restart the
engine with the configuration template rendered for the new RAM, record
the flavor.  A failure puts the old flavor and template back.  Volume:
grow the volume through the driver, record the size.  Both always end in
task NONE, with a fault when they failed.
"""
from dataclasses import dataclass

from oslo_log import log as logging

from trove.common import states
from trove.common import template
from trove.db import api as db_api
from trove.db import datastores
from trove.db import task_requests
from trove.guestagent import rpcapi as guest_rpcapi
from trove.taskmanager.flows import restart as restart_flow

LOG = logging.getLogger(__name__)
Task = states.InstanceTask


@dataclass
class FlavorResize:
    """What the API asked for (the ``resize_flavor`` cast)."""

    instance_id: str
    old_flavor: dict
    new_flavor: dict


def _manager(inst):
    return datastores.get_version_by_id(inst.datastore_version_id).manager


def _move(driver, guest, inst, manager, flavor):
    driver.resize_server(inst.compute_instance_id, str(flavor['id']))
    guest.start_db_with_conf_changes(
        config_contents=template.render_config(manager, int(flavor['ram'])))


def _revert(driver, guest, inst, manager, old_flavor):
    try:
        _move(driver, guest, inst, manager, old_flavor)
        LOG.info('Instance %s reverted to flavor %s', inst.id, old_flavor['id'])
        return ''
    except Exception as exc:
        LOG.exception('Reverting the resize of %s failed', inst.id)
        return '; reverting to flavor %s also failed: %s' % (
            old_flavor['id'], restart_flow._error_text(exc))


def resize_flavor(context, driver, req):
    """Run a flavor resize claimed by the API; always ends in task NONE."""
    inst = db_api.get_instance(req.instance_id)
    guest = guest_rpcapi.GuestAPI(context, inst.id)
    fault = None
    try:
        manager = _manager(inst)
        guest.stop_db()
        try:
            _move(driver, guest, inst, manager, req.new_flavor)
        except Exception as exc:
            LOG.exception('Resize of %s failed', inst.id)
            fault = 'Resize to flavor %s failed: %s%s' % (
                req.new_flavor['id'], restart_flow._error_text(exc),
                _revert(driver, guest, inst, manager, req.old_flavor))
        else:
            # The new flavor and the end of the request in one transaction:
            # a delete that took over meanwhile gives back the charged RAM.
            if task_requests.finish_if(inst.id, Task.RESIZING,
                                       {'flavor_id': str(req.new_flavor['id'])}):
                LOG.info('Instance %s resized to flavor %s', inst.id, req.new_flavor['id'])
    except Exception as exc:
        LOG.exception('Resize of %s failed before the server moved', inst.id)
        fault = 'Resize failed: %s' % restart_flow._error_text(exc)
    restart_flow.refresh_status(guest, inst.id)
    restart_flow.finish(inst.id, Task.RESIZING, fault, action='resize_flavor')


def _extend(driver, volume_id, new_size):
    """Grow the volume; one a redone resize finds grown already is left alone."""
    try:
        driver.extend_volume(volume_id, new_size)
    except Exception:
        get_volume = getattr(driver, 'get_volume', None)
        if get_volume is None or get_volume(volume_id).size < new_size:
            raise
        LOG.info('Volume %s is already %s GB', volume_id, new_size)


def resize_volume(context, driver, instance_id, new_size):
    """Grow the data volume to ``new_size`` GB; always ends in task NONE."""
    fault = None
    try:
        inst = db_api.get_instance(instance_id)
        if not inst.volume_id:
            raise ValueError('the instance has no volume')
        _extend(driver, inst.volume_id, int(new_size))
        task_requests.finish_if(instance_id, Task.RESIZING, {'volume_size': int(new_size)})
        LOG.info('Instance %s volume resized to %s GB', instance_id, new_size)
    except Exception as exc:
        LOG.exception('Volume resize of %s failed', instance_id)
        fault = 'Volume resize to %s GB failed: %s' % (new_size,
                                                        restart_flow._error_text(exc))
    restart_flow.finish(instance_id, Task.RESIZING, fault, action='resize_volume')
