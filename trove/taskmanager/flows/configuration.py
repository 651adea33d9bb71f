"""Apply a configuration group's values to an instance.

The guest rewrites its overrides file with the complete new set, then the
changed dynamic options are set live (options no longer in the group go
back to the flavor template's value, or the engine default).  When an
option that needs a restart changed, the instance waits in task and
service status RESTART_REQUIRED until the user restarts it.
"""
from dataclasses import dataclass, field

from oslo_log import log as logging

from trove.common import states
from trove.common import template
from trove.db import api as db_api
from trove.db import configurations
from trove.db import datastores
from trove.db import task_requests
from trove.guestagent import rpcapi as guest_rpcapi

LOG = logging.getLogger(__name__)
Task = states.InstanceTask
Status = states.ServiceStatus


@dataclass
class ConfigurationChange:
    """Values before and after an attach, detach or group edit."""

    instance_id: str
    old_values: dict = field(default_factory=dict)
    new_values: dict = field(default_factory=dict)


def changed_keys(old, new):
    return {k for k in set(old) | set(new) if old.get(k) != new.get(k)}


def template_defaults(manager, flavor_ram_mb):
    """The flavor template's values keyed by server variable name."""
    values = template.config_values(manager, flavor_ram_mb)
    return {str(k).replace('-', '_'): v for k, v in values.items()}


def live_values(change, static_keys, defaults):
    """Dynamic options to SET GLOBAL; None restores the engine's default."""
    result = {}
    for key in changed_keys(change.old_values, change.new_values) - static_keys:
        if key in change.new_values:
            result[key] = change.new_values[key]
        else:
            # Template keys are normalised to underscores (redis uses dashes).
            result[key] = defaults.get(str(key).replace('-', '_'))
    return result


def _flavor_ram(driver, inst):
    try:
        return int(driver.get_flavor(inst.flavor_id).ram)
    except Exception as exc:
        LOG.warning('Flavor %s of %s unknown (%s); defaults from 512 MB',
                    inst.flavor_id, inst.id, exc)
        return 512


def require_restart(instance_id):
    """Move the instance to RESTART_REQUIRED (task and service status)."""
    if db_api.set_task(instance_id, Task.RESTART_REQUIRED,
                       expected={Task.NONE, Task.RESTART_REQUIRED}):
        db_api.set_service_status(instance_id, Status.RESTART_REQUIRED)
        return True
    db_api.save_fault(instance_id, 'A configuration change needs a restart of the '
                                   'database; restart the instance when it is idle.')
    return False


def apply_configuration(context, driver, change):
    """Write, apply live and flag a restart when needed; errors become a fault."""
    try:
        inst = db_api.get_instance(change.instance_id)
        version = datastores.get_version_by_id(inst.datastore_version_id)
        static = configurations.restart_required_keys(version.id)
        guest = guest_rpcapi.GuestAPI(context, inst.id)
        guest.update_overrides(overrides=change.new_values, remove=not change.new_values)
        defaults = template_defaults(version.manager, _flavor_ram(driver, inst))
        live = live_values(change, static, defaults)
        if live:
            guest.apply_overrides(overrides=live)
        needs_restart = bool(changed_keys(change.old_values, change.new_values) & static)
        if needs_restart:
            require_restart(inst.id)
        LOG.info('Configuration of %s applied: %d live, restart %s', inst.id, len(live),
                 'required' if needs_restart else 'not required')
    except Exception as exc:
        LOG.exception('Applying configuration to %s failed', change.instance_id)
        text = getattr(exc, 'msg', None) or str(exc) or type(exc).__name__
        try:
            db_api.save_fault(change.instance_id,
                              'Applying the configuration group failed: %s' % text)
        except Exception:
            LOG.exception('Could not record the fault of %s', change.instance_id)
    task_requests.finish(change.instance_id, action='apply_configuration')
