"""Rebuild an instance's server on another image, keeping its volume (task UPGRADING).

Two requests end here:

* upgrade, ``PATCH /instances/{id} {"instance": {"datastore_version": V}}``:
  the server is rebuilt on version V's image and the instance belongs to V
  once the guest runs it;
* rebuild, ``POST /mgmt/instances/{id}/action {"rebuild": {"image_id": I}}``:
  the server is rebuilt on image I, the version stays.

Steps: stop the engine (best effort: a rebuild also repairs a broken one),
have the compute driver rebuild the server (a new root disk, the same
volume, address and id), prepare again with the version's configuration
(the guest finds the datadir on the volume initialised, starts the engine
on it and keeps the data, databases and users), then wait until the new
guest reports a running engine.  A guest that never comes back ends in
UPGRADING_ERROR with a fault; the flow is redone after a taskmanager crash
from its stored request.
"""
from dataclasses import dataclass

from oslo_log import log as logging

from trove.common import states
from trove.common import template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import configurations
from trove.db import datastores
from trove.db import models
from trove.db import task_requests
from trove.guestagent import rpcapi as guest_rpcapi
from trove.taskmanager import guest_files
from trove.taskmanager.flows import restart as restart_flow

LOG = logging.getLogger(__name__)
Task = states.InstanceTask


@dataclass
class RebuildRequest:
    """``action`` is ``upgrade`` or ``rebuild`` (the stored request's name)."""

    instance_id: str
    image_id: str | None
    datastore_version_id: str
    action: str


def _prepare_request(driver, inst, version):
    ram = int(driver.get_flavor(inst.flavor_id).ram)
    overrides = (configurations.get_values(inst.configuration_id)
                 if inst.configuration_id else {})
    return PrepareRequest(memory_mb=ram, ds_version=version.name, overrides=overrides,
                          config_contents=template.render_config(version.manager, ram))


def _stop_engine(guest, instance_id):
    try:
        guest.stop_db()
    except Exception as exc:
        LOG.warning('Stopping the engine of %s before the rebuild failed: %s',
                    instance_id, exc)


class Refused(Exception):
    """The rebuild cannot start (unknown image): nothing was changed."""


def _run(context, driver, req):
    """The steps; returns a fault text, or None when the guest runs again."""
    inst = db_api.get_instance(req.instance_id)
    version = datastores.get_version_by_id(req.datastore_version_id)
    guest = guest_rpcapi.GuestAPI(context, inst.id)
    try:
        driver.check_image(req.image_id)
    except Exception as exc:
        raise Refused(restart_flow._error_text(exc))
    _stop_engine(guest, inst.id)
    files = guest_files.injected_files(inst, version.name, version.manager)
    driver.rebuild_server(inst.compute_instance_id, req.image_id, files)
    # The old agent is gone now and the new one reports only once prepared:
    # any running heartbeat from here on is the rebuilt guest's.
    since = models.utcnow()
    guest.create_queue()
    guest.prepare(request=_prepare_request(driver, inst, version))
    timeout = CONF.usage_timeout
    status = restart_flow.wait_for_running(inst.id, since, timeout, task=Task.UPGRADING)
    if status is None:
        return ('The guest did not report a running database within %d seconds of the '
                'rebuild on image %s.' % (timeout, req.image_id or 'default'))
    if task_requests.finish_if(inst.id, Task.UPGRADING,
                               {'datastore_version_id': version.id}):
        LOG.info('Instance %s rebuilt on image %s: %s %s, database %s', inst.id,
                 req.image_id, version.manager, version.name, status.description)
    return None


def rebuild(context, driver, req):
    """Run an upgrade or rebuild claimed by the API; always leaves UPGRADING."""
    try:
        fault = _run(context, driver, req)
    except Refused as exc:
        # The engine still runs untouched: back to NONE with the reason.
        task_requests.finish(req.instance_id, refund=True, action=req.action)
        restart_flow.finish(req.instance_id, Task.UPGRADING,
                            '%s refused: %s' % (req.action.capitalize(), exc))
        return
    except restart_flow.TaskChanged:
        # A delete took over while the rebuild waited; it gives the quota back.
        LOG.info('Instance %s left UPGRADING while its %s waited (deleted?)',
                 req.instance_id, req.action)
        task_requests.finish(req.instance_id, action=req.action)
        return
    except Exception as exc:
        LOG.exception('%s of %s failed', req.action.capitalize(), req.instance_id)
        fault = '%s failed: %s' % (req.action.capitalize(), restart_flow._error_text(exc))
    task_requests.finish(req.instance_id, refund=bool(fault), action=req.action)
    if fault is None:
        restart_flow.finish(req.instance_id, Task.UPGRADING)
        return
    db_api.save_fault(req.instance_id, fault)
    if not db_api.set_task(req.instance_id, Task.UPGRADING_ERROR, expected=Task.UPGRADING):
        LOG.info('Instance %s left UPGRADING while it ran (deleted?)', req.instance_id)
