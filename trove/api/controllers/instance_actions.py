"""Instance update (rename, configuration attach/detach), actions and config view.

``PUT``/``PATCH /{t}/instances/{id}``, ``POST /{t}/instances/{id}/action``
and ``GET /{t}/instances/{id}/configuration``.  Actions claim the instance
with a conditional task change (NONE or RESTART_REQUIRED -> REBOOTING or
RESIZING) and cast the work to the taskmanager, which always ends it.
"""
import ipaddress
import json

from oslo_log import log as logging

from trove.api import middleware, wsgi
from trove.api.controllers import claims
from trove.api.controllers import configurations as cfg_ctl
from trove.api.controllers import flavors, high_availability, pitr
from trove.api.controllers import instances as instances_ctl
from trove.api.controllers import rebuilds, replicas
from trove.api.schemas import configurations as schemas
from trove.common import exception, policy, states, template
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import configurations as cfg_db
from trove.db import datastores

LOG = logging.getLogger(__name__)
Task = states.InstanceTask
Status = states.ServiceStatus
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
        claims.validate_can_perform_action(inst)
        tm = instances_ctl.get_taskmanager(context)
        if name == 'restart':
            restore = claims.claim_task(inst, Task.REBOOTING, Status.RESTARTING,
                                        request=('restart', {}))
            return claims.cast_or_restore(inst, Task.REBOOTING, restore, 'restart',
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
        restore = claims.claim_task(inst, Task.RESIZING, request=('resize_flavor', args),
                                    charge={'ram': new.ram - old.ram})
        return claims.cast_or_restore(inst, Task.RESIZING, restore,
                                      'resize to flavor %s' % new.id,
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
        # A primary's replicas grow with it (upstream); all are checked first.
        members = replicas.smaller_replicas(inst, size)
        result = self._claim_volume_resize(tm, inst, size)
        for member in members:
            self._claim_volume_resize(tm, member, size)
        return result

    @staticmethod
    def _claim_volume_resize(tm, inst, size):
        restore = claims.claim_task(inst, Task.RESIZING,
                                    request=('resize_volume', {'new_size': size}),
                                    charge={'volumes': size - inst.volume_size})
        return claims.cast_or_restore(inst, Task.RESIZING, restore,
                                      'volume resize to %d GB' % size,
                                      lambda: tm.resize_volume(instance_id=inst.id,
                                                               new_size=size))

    def _reset_status(self, context, inst):
        for _attempt in range(5):
            if db_api.set_task(inst.id, Task.NONE):
                break
        db_api.set_service_status(inst.id, Status.UNKNOWN, touch=False)
        claims.fail_running_backups(inst.id)
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
            return rebuilds.upgrade(context, inst, data['datastore_version'])
        if 'pitr' in data:
            # Refused (400/422) before anything else of the request changes.
            pitr.check_update(inst, data['pitr'])
        if 'high_availability' in data:
            high_availability.update(
                inst, data['high_availability'],
                datastores.get_version_by_id(inst.datastore_version_id).manager,
                instances_ctl.get_taskmanager(context))
        if 'pitr' in data:
            pitr.update(inst, data['pitr'], instances_ctl.get_taskmanager(context))
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
        claims.validate_can_perform_action(inst)
        values = cfg_db.get_values(group.id)
        db_api.update_instance(inst.id, configuration_id=group.id)
        self._send_change(context, inst, {}, values, previous=None)
        LOG.info('Configuration %s attached to %s', group.id, inst.id)

    def _detach(self, context, inst):
        if not inst.configuration_id:
            return
        claims.validate_can_perform_action(inst)
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
