"""Instance update (rename, configuration attach/detach), actions and config view.

``PUT``/``PATCH /{t}/instances/{id}``, ``POST /{t}/instances/{id}/action``
and ``GET /{t}/instances/{id}/configuration``.  Actions claim the instance
with a conditional task change (NONE or RESTART_REQUIRED -> REBOOTING or
RESIZING) and cast the work to the taskmanager, which always ends it.
"""
import ipaddress
import json
import traceback

from oslo_log import log as logging
from sqlalchemy import func, select

from trove.api import middleware, wsgi
from trove.api.controllers import configurations as cfg_ctl
from trove.api.controllers import flavors, guest_access
from trove.api.controllers import instances as instances_ctl
from trove.api.controllers import replicas
from trove.api.schemas import configurations as schemas
from trove.common import exception, policy, quota, states, template
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import configurations as cfg_db
from trove.db import datastores, models
from trove.db import quotas as db_quotas
from trove.db import task_requests
from trove.db.session import reader

LOG = logging.getLogger(__name__)
Task = states.InstanceTask
Status = states.ServiceStatus
ACTIONABLE_TASKS = frozenset({Task.NONE, Task.RESTART_REQUIRED})
_RUNNING_BACKUP = ('NEW', 'BUILDING', 'SAVING')


def running_backups(instance_id):
    """How many backups of the instance are running."""
    with reader() as session:
        return session.scalar(select(func.count()).select_from(models.Backup).where(
            models.Backup.instance_id == instance_id, models.Backup.deleted.is_(False),
            models.Backup.state.in_(_RUNNING_BACKUP)))


def validate_can_perform_action(inst):
    """422 unless the server is up, the task idle, the service usable and
    reporting (guest_access.refuse_silent_guest), and no backup runs."""
    task = Task.from_code(inst.task_id)
    if task not in ACTIONABLE_TASKS:
        raise exception.InstanceNotAvailable(instance_id=inst.id, task=task.name)
    if (inst.server_status or '').upper() not in ('ACTIVE', 'HEALTHY'):
        raise exception.UnprocessableEntity(
            detail='instance %s is not available: its server is %s.'
                   % (inst.id, inst.server_status or 'unknown'))
    row = db_api.get_service_status(inst.id)
    status = Status.from_code(row.status_id) if row else Status.UNKNOWN
    if not status.action_is_allowed:
        raise exception.UnprocessableEntity(
            detail='instance %s is not available: its database service is %s.'
                   % (inst.id, status.api_status))
    guest_access.refuse_silent_guest(inst.id, row)
    if running_backups(inst.id):
        raise exception.UnprocessableEntity(
            detail='instance %s is not available: a backup is running.' % inst.id)


def fail_running_backups(instance_id):
    """Mark the instance's running backups FAILED (an admin reset); returns ids."""
    failed = []
    for row in db_backups.list_backups(instance_id=instance_id):
        if row.state in states.BackupState.RUNNING and db_backups.update_backup(
                row.id, expected_states=states.BackupState.RUNNING,
                state=states.BackupState.FAILED):
            failed.append(row.id)
    if failed:
        LOG.warning('Instance %s reset: backups %s marked FAILED', instance_id,
                    ', '.join(failed))
    return failed


def claim_task(inst, task, service_status=None, request=None, charge=None):
    """Conditionally move to ``task``; returns what to restore if the cast fails.

    ``request`` is ``(action, kwargs)`` of the taskmanager cast: it is stored
    with the claim (task_requests) so a taskmanager that dies with the cast
    redoes the task.  ``charge`` (quota deltas) is charged in the same
    transaction and given back if the task is abandoned.
    InstanceNotAvailable (409/422 as upstream) when another task runs.
    """
    row = db_api.get_service_status(inst.id)
    if request is None:
        before = Task.from_code(inst.task_id)
        claimed = db_api.set_task(inst.id, task, expected=ACTIONABLE_TASKS)
    else:
        if charge:
            db_quotas.ensure_usages(inst.tenant_id, quota.RESOURCES)
        before = task_requests.claim(inst.id, task, ACTIONABLE_TASKS, request[0],
                                     request[1], charge=charge,
                                     limits=quota.get_limits(inst.tenant_id))
        claimed = before is not None
        if claimed:
            LOG.info('Instance %s task %s -> %s', inst.id, before.name, task.name)
    if not claimed:
        current = db_api.get_task(db_api.get_instance(inst.id))
        raise exception.InstanceNotAvailable(instance_id=inst.id, task=current.name)
    if service_status is not None:
        db_api.set_service_status(inst.id, service_status, touch=False)
    return before, (Status.from_code(row.status_id) if row else None)


def cast_or_restore(inst, task, restore, what, send):
    """Run ``send`` (the cast); on failure undo the claim and answer 503."""
    try:
        send()
    except Exception as exc:
        LOG.error('Casting %s for %s failed: %s', what, inst.id, exc)
        before, status = restore
        task_requests.finish(inst.id, refund=True)
        db_api.set_task(inst.id, before, expected=task)
        if status is not None:
            db_api.set_service_status(inst.id, status, touch=False)
        db_api.save_fault(inst.id, 'The %s request could not be sent to the '
                                   'taskmanager.' % what, details=traceback.format_exc())
        raise instances_ctl.ServiceUnavailable(
            detail='the taskmanager is unreachable; %s of instance %s was not '
                   'started.' % (what, inst.id))
    LOG.info('Instance %s: %s requested', inst.id, what)
    return wsgi.Result(status=202)


def _cast_or_revert(inst, column, previous, send):
    """Run ``send`` (a cast that needs no task); on failure put ``column`` back, 503."""
    try:
        send()
    except Exception as exc:
        LOG.error('Casting the %s change of %s failed: %s', column, inst.id, exc)
        db_api.update_instance(inst.id, **{column: previous})
        raise instances_ctl.ServiceUnavailable(
            detail='the taskmanager is unreachable; the %s of instance %s was not '
                   'changed.' % (column.replace('_id', ''), inst.id))


class InstanceActionController:
    """Update, actions and the rendered configuration of one instance."""

    schemas = {'action': schemas.action, 'update': schemas.instance_update,
               'edit': schemas.instance_update}

    # -- POST .../action -----------------------------------------------------------
    def action(self, req, tenant_id, id, body):
        context = middleware.get_context(req)
        inst = db_api.get_instance(id, context.owner)
        (name, args), = body.items()
        rule = name
        if name == 'resize':
            rule = 'resize_flavor' if 'flavorRef' in args else 'resize_volume'
        policy.authorize(context, 'instance:%s' % rule, inst.tenant_id)
        if name == 'reset_status':
            return self._reset_status(context, inst)
        if name == 'promote_to_replica_source':
            return replicas.promote(context, inst)
        if name == 'eject_replica_source':
            return replicas.eject(context, inst)
        validate_can_perform_action(inst)
        tm = instances_ctl.get_taskmanager(context)
        if name == 'restart':
            restore = claim_task(inst, Task.REBOOTING, Status.RESTARTING,
                                 request=('restart', {}))
            return cast_or_restore(inst, Task.REBOOTING, restore, 'restart',
                              lambda: tm.restart(instance_id=inst.id))
        if 'flavorRef' in args:
            return self._resize_flavor(tm, inst, args['flavorRef'])
        return self._resize_volume(tm, inst, int(args['volume']['size']))

    def _resize_flavor(self, tm, inst, flavor_ref):
        new = flavors.find_flavor(flavor_ref)
        if str(new.id) == str(inst.flavor_id):
            raise exception.BadRequest('The new flavor %s is the instance\'s current '
                                       'flavor; choose a different one.' % new.id)
        old = flavors.find_flavor(inst.flavor_id)
        # The RAM difference is charged with the claim, and given back if
        # the resize fails or is abandoned (task_requests).
        args = dict(old_flavor=old.to_dict(), new_flavor=new.to_dict())
        restore = claim_task(inst, Task.RESIZING, request=('resize_flavor', args),
                             charge={'ram': new.ram - old.ram})
        return cast_or_restore(inst, Task.RESIZING, restore, 'resize to flavor %s' % new.id,
                               lambda: tm.resize_flavor(instance_id=inst.id, **args))

    def _resize_volume(self, tm, inst, size):
        if not CONF.volume_support or not inst.volume_size:
            raise exception.VolumeNotSupported()
        if size <= inst.volume_size:
            raise exception.BadRequest(
                'The new volume size %d GB must be larger than the current size of '
                '%d GB.' % (size, inst.volume_size))
        if size > CONF.max_accepted_volume_size:
            raise exception.VolumeSizeTooLarge(size=size,
                                               max_size=CONF.max_accepted_volume_size)
        restore = claim_task(inst, Task.RESIZING, request=('resize_volume', {'new_size': size}),
                             charge={'volumes': size - inst.volume_size})
        return cast_or_restore(inst, Task.RESIZING, restore, 'volume resize to %d GB' % size,
                               lambda: tm.resize_volume(instance_id=inst.id, new_size=size))

    def _reset_status(self, context, inst):
        for _attempt in range(5):
            if db_api.set_task(inst.id, Task.NONE):
                break
        db_api.set_service_status(inst.id, Status.UNKNOWN, touch=False)
        fail_running_backups(inst.id)
        LOG.info('Instance %s status reset by an administrator', inst.id)
        return wsgi.Result(status=202)

    # -- PUT/PATCH .../instances/{id} ------------------------------------------------
    def update(self, req, tenant_id, id, body):
        return self._update(req, id, body, 'instance:update')

    def edit(self, req, tenant_id, id, body):
        return self._update(req, id, body, 'instance:edit')

    def _update(self, req, id, body, rule):
        context = middleware.get_context(req)
        inst = db_api.get_instance(id, context.owner)
        policy.authorize(context, rule, inst.tenant_id)
        data = body['instance']
        for key in ('replica_of', 'slave_of'):
            if key in data:
                if data[key]:
                    raise exception.BadRequest('%s can only be emptied (detach); a '
                                               'replica is created with POST.' % key)
                return replicas.detach(context, inst)
        if 'datastore_version' in data:
            if len(data) > 1:
                raise exception.BadRequest('An upgrade (datastore_version) cannot be '
                                           'combined with other changes.')
            # rebuilds builds on this module's claims: imported when used.
            from trove.api.controllers import rebuilds
            return rebuilds.upgrade(context, inst, data['datastore_version'])
        if 'access' in data:
            self._update_access(context, inst, data['access'])
        if data.get('configuration'):
            self._attach(context, inst, data['configuration'])
        elif 'configuration' in data or not data:
            self._detach(context, inst)
        if 'name' in data:
            db_api.update_instance(inst.id, name=data['name'])
            LOG.info('Instance %s renamed to %s', inst.id, data['name'])
        return wsgi.Result(status=202)

    def _update_access(self, context, inst, access):
        """Store who may reach the instance (``is_public``, ``allowed_cidrs``), apply it.

        The taskmanager applies the stored value to the running server
        (``update_access``; nova: the instance's security group).  No task is
        claimed: the instance stays usable, and a failure to apply becomes its
        fault.  When the cast cannot be sent the old value is put back, so
        what is shown is what the server has.
        """
        for cidr in access.get('allowed_cidrs', []):
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise exception.BadRequest('Invalid CIDR in allowed_cidrs: %s' % cidr)
        previous = inst.access
        db_api.update_instance(inst.id, access=json.dumps(access))
        tm = instances_ctl.get_taskmanager(context)
        _cast_or_revert(inst, 'access', previous,
                        lambda: tm.update_access(instance_id=inst.id))
        LOG.info('Instance %s access set to %s', inst.id, access)

    def _attach(self, context, inst, config_id):
        if inst.configuration_id:
            raise exception.BadRequest(
                'Instance %s already has configuration group %s attached; detach it '
                'first.' % (inst.id, inst.configuration_id))
        # The group must be the instance's project's, whoever asks.
        group = cfg_db.get_configuration(config_id, inst.tenant_id)
        if group.datastore_version_id != inst.datastore_version_id:
            raise exception.BadRequest(
                'Configuration group %s is for another datastore version than instance '
                '%s.' % (group.id, inst.id))
        validate_can_perform_action(inst)
        values = cfg_db.get_values(group.id)
        db_api.update_instance(inst.id, configuration_id=group.id)
        self._send_change(context, inst, {}, values, previous=None)
        LOG.info('Configuration %s attached to %s', group.id, inst.id)

    def _detach(self, context, inst):
        if not inst.configuration_id:
            return
        validate_can_perform_action(inst)
        values = cfg_db.get_values(inst.configuration_id)
        db_api.update_instance(inst.id, configuration_id=None)
        self._send_change(context, inst, values, {}, previous=inst.configuration_id)
        LOG.info('Configuration %s detached from %s', inst.configuration_id, inst.id)

    def _send_change(self, context, inst, old, new, previous):
        tm = instances_ctl.get_taskmanager(context)
        _cast_or_revert(inst, 'configuration_id', previous,
                        lambda: cfg_ctl.send_configuration(tm, inst.id, old, new))

    # -- GET .../configuration -----------------------------------------------------------
    def configuration(self, req, tenant_id, id):
        """The flavor template's values for this instance (not the group's)."""
        context = middleware.get_context(req)
        inst = db_api.get_instance(id, context.owner)
        policy.authorize(context, 'instance:configuration', inst.tenant_id)
        version = datastores.get_version_by_id(inst.datastore_version_id)
        flavor = flavors.find_flavor(inst.flavor_id)
        return {'instance': {'configuration': template.config_values(version.manager,
                                                                     flavor.ram)}}
