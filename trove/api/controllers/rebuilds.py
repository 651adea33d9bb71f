"""Upgrade (``PATCH /instances/{id}`` with ``datastore_version``) and the mgmt
``rebuild`` action: both rebuild the server on another image keeping the
volume (taskmanager flows/rebuild.py, task UPGRADING).

The claim stores the request (task_requests), so a taskmanager that dies
with the cast redoes it.
"""
from oslo_log import log as logging

from trove.api.controllers import claims
from trove.api.controllers import instances as instances_ctl
from trove.common import exception, states
from trove.db import datastores

LOG = logging.getLogger(__name__)
Task = states.InstanceTask


def _claim_and_cast(context, inst, action, args):
    restore = claims.claim_task(inst, Task.UPGRADING, request=(action, args))
    tm = instances_ctl.get_taskmanager(context)
    send = getattr(tm, action)
    return claims.cast_or_restore(inst, Task.UPGRADING, restore,
                                            '%s on image %s' % (action, args['image_id']),
                                            lambda: send(instance_id=inst.id, **args))


def upgrade(context, inst, version_ref):
    """Move ``inst`` to another version of its datastore; 202."""
    current = datastores.get_version_by_id(inst.datastore_version_id)
    if not isinstance(version_ref, str) or not version_ref.strip():
        raise exception.BadRequest('datastore_version must be a version name or id.')
    target = datastores.get_version(current.datastore_id, version_ref)
    if target.id == current.id:
        raise exception.BadRequest('Instance %s already runs datastore version %s.'
                                   % (inst.id, current.name))
    if not target.active:
        raise exception.BadRequest('Datastore version %s is not active.' % target.name)
    if target.manager != current.manager:
        raise exception.BadRequest('Datastore version %s uses another manager (%s) than '
                                   'the instance (%s).' % (target.name, target.manager,
                                                           current.manager))
    claims.validate_can_perform_action(inst)
    LOG.info('Instance %s upgrade %s -> %s requested', inst.id, current.name, target.name)
    return _claim_and_cast(context, inst, 'upgrade', {
        'image_id': target.image_id or None, 'datastore_version_id': target.id})


def rebuild(context, inst, image_id):
    """Rebuild ``inst``'s server on ``image_id``, same version (mgmt); 202."""
    if not inst.compute_instance_id:
        raise exception.UnprocessableEntity(
            detail='instance %s has no server to rebuild.' % inst.id)
    task = Task.from_code(inst.task_id)
    if task not in claims.ACTIONABLE_TASKS:
        raise exception.InstanceNotAvailable(instance_id=inst.id, task=task.name)
    if claims.running_backups(inst.id):
        raise exception.UnprocessableEntity(
            detail='instance %s is not available: a backup is running.' % inst.id)
    return _claim_and_cast(context, inst, 'rebuild', {
        'image_id': image_id, 'datastore_version_id': inst.datastore_version_id})
