"""Replication in the API: create replicas, detach, promote, eject, refusals.

The topology is ``slave_of_id`` on the replica rows (db/replicas.py); the
work is the taskmanager's (flows/replication.py).  Every request claims its
instance and stores its request with the claim (task_requests), like the
other long actions, so a taskmanager crash does not lose it.
"""
from oslo_log import log as logging


from trove.api.controllers import claims, guest_access
from trove.api.controllers import instances as instances_ctl
from trove.api.controllers import flavors
from trove.api.controllers import ssl as ssl_api
from trove.api.views import instances as views
from trove.common import exception, quota, states
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import datastores
from trove.db import replicas
from trove.db import task_requests

LOG = logging.getLogger(__name__)
Task = states.InstanceTask


def _primary(context, ref):
    primary_id = str(ref).rstrip('/').rsplit('/', 1)[-1]
    try:
        primary = db_api.get_instance(primary_id, context.owner)
    except exception.InstanceNotFound:
        raise exception.BadRequest('Replica source %s was not found.' % primary_id)
    if primary.slave_of_id:
        raise exception.BadRequest('Cannot create a replica of replica %s; use its '
                                   'primary %s.' % (primary.id, primary.slave_of_id))
    claims.validate_can_perform_action(primary)
    return primary


def _new_replica(context, data, primary, flavor, volume_size, version, index, count,
                 tls=None):
    name = data['name'] if count == 1 else '%s-%d' % (data['name'], index + 1)
    build = dict(primary_id=primary.id, flavor=flavor.to_dict(),
                 datastore_manager=version.manager, ds_version=version.name,
                 image_id=version.image_id, volume_size=volume_size, overrides={})
    if tls:
        build['tls'] = tls
    return quota.run_with_quotas(
        primary.tenant_id, quota.instance_deltas(+1, flavor.ram, volume_size),
        lambda: db_api.create_instance(dict(
            name=name, tenant_id=primary.tenant_id, flavor_id=str(flavor.id),
            volume_size=volume_size, datastore_version_id=version.id,
            region_id=CONF.region, slave_of_id=primary.id, access=primary.access,
            encrypted_key=instances_ctl._new_rpc_key()),
            also=lambda session, iid: task_requests.save(session, iid, 'create_replica',
                                                         build))), build


def create(context, data):
    """``POST /instances`` with ``replica_of``: ``replica_count`` replicas; returns
    the first one's row (the API shows it, as upstream)."""
    primary = _primary(context, data['replica_of'])
    version = datastores.get_version_by_id(primary.datastore_version_id)
    flavor = flavors.find_flavor(data.get('flavorRef') or primary.flavor_id)
    volume = data.get('volume') or {}
    volume_size = int(volume.get('size') or primary.volume_size or 0) or None
    if volume_size and primary.volume_size and volume_size < primary.volume_size:
        raise exception.BadRequest('A replica needs a volume of at least %d GB (the '
                                   'primary\'s).' % primary.volume_size)
    count = int(data.get('replica_count') or 1)
    tls = ssl_api.replica_tls(context, primary)
    rows = []
    for index in range(count):
        inst, build = _new_replica(context, data, primary, flavor, volume_size, version,
                                   index, count, tls)
        rows.append(inst)
        if tls:
            ssl_api.register_consumers(context, inst.id, tls)
        LOG.info('Replica %s of %s requested', inst.id, primary.id)
        try:
            instances_ctl.get_taskmanager(context).create_replica(instance_id=inst.id,
                                                                  **build)
        except Exception as exc:
            LOG.error('Casting create_replica for %s failed: %s', inst.id, exc)
            task_requests.finish(inst.id)
            db_api.set_task(inst.id, Task.BUILDING_ERROR_REPLICA)
            db_api.save_fault(inst.id, 'The replica request could not be sent to the '
                                       'taskmanager.')
            raise instances_ctl.ServiceUnavailable(
                detail='Replica %s could not be scheduled: the taskmanager is '
                       'unreachable. It is in ERROR and can be deleted.' % inst.id)
    return rows[0]


def share_client_auth(context, primary, guest):
    """After a root change on a primary: its replicas take the same client
    credentials when the engine does not replicate them (Redis's password).
    A replica that cannot is given a fault; the primary's change stands."""
    members = replicas.replica_ids(primary.id)
    if not members:
        return
    auth = guest.get_client_auth()
    if not auth:
        return
    for member in members:
        try:
            guest_access.get_guest(context, member).set_client_auth(auth=auth)
        except Exception as exc:
            LOG.error('Replica %s did not take the root change of %s: %s', member,
                      primary.id, type(exc).__name__)
            db_api.save_fault(member, 'The root change of primary %s could not be applied '
                                      'to this replica; its clients still use the previous '
                                      'password.' % primary.id)


def refuse_delete(inst):
    """403 (upstream's ReplicaSourceDeleteForbidden) for a primary with replicas."""
    members = replicas.replica_ids(inst.id)
    if members:
        raise exception.ReplicaSourceDeleteForbidden(replicas=', '.join(members))


def smaller_replicas(primary, size):
    """The replicas of ``primary`` whose volume is below ``size`` GB, each able
    to take a resize now (else the 422 of validate_can_perform_action, and
    nothing is resized)."""
    members = [r for r in replicas.list_replicas(primary.id)
               if r.volume_size and r.volume_size < size]
    for member in members:
        claims.validate_can_perform_action(member)
    return members


def _claim_and_cast(context, inst, task, action):
    restore = claims.claim_task(inst, task, request=(action, {}))
    send = getattr(instances_ctl.get_taskmanager(context), action)
    return claims.cast_or_restore(inst, task, restore, action.replace('_', ' '),
                                            lambda: send(instance_id=inst.id))


def detach(context, inst):
    """``PUT /instances/{id} {"instance": {"replica_of": ""}}``; 202."""
    if not inst.slave_of_id:
        raise exception.BadRequest('Instance %s is not a replica.' % inst.id)
    claims.validate_can_perform_action(inst)
    return _claim_and_cast(context, inst, Task.DETACHING, 'detach_replica')


def promote(context, inst):
    """``promote_to_replica_source`` on a replica; 202."""
    if not inst.slave_of_id:
        raise exception.BadRequest('Instance %s is not a replica; promote one of the '
                                   'replicas of a primary.' % inst.id)
    claims.validate_can_perform_action(inst)
    primary = db_api.get_instance(inst.slave_of_id)
    claims.validate_can_perform_action(primary)
    return _claim_and_cast(context, inst, Task.PROMOTING, 'promote_to_replica_source')


def eject(context, inst):
    """``eject_replica_source`` on a failed primary; refused while it still reports."""
    if inst.slave_of_id or not replicas.replica_ids(inst.id):
        raise exception.BadRequest('Instance %s is not a replica source.' % inst.id)
    if not views.heartbeat_expired(db_api.get_service_status(inst.id)):
        raise exception.BadRequest('Replica source %s is still reporting; promote a '
                                   'replica instead of ejecting it.' % inst.id)
    return _claim_and_cast(context, inst, Task.EJECTING, 'eject_replica_source')
