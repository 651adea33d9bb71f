"""Instances: list, show, create and delete.

The API only records intent and casts: create inserts the instance in
BUILDING and casts ``create_instance``; delete moves it to DELETING (allowed
from every task, so delete always works) and casts ``delete_instance``.
``get_taskmanager`` is the module-level hook that yields the RPC client.
"""
import json
import traceback

from oslo_log import log as logging

from trove.api import links, middleware, wsgi
from trove.api.controllers import flavors, high_availability, pitr, replicas
from trove.api.controllers import ssl as ssl_api
from trove.api.schemas import instances as schemas
from trove.api.views import instances as views
from trove.common import exception, policy, quota, rpc_crypto, states
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import quotas as db_quotas
from trove.db import task_requests
from trove.db import configurations as cfg_db
from trove.db import datastores
from trove.db import instance_views

LOG = logging.getLogger(__name__)
Task = states.InstanceTask


def get_taskmanager(context):
    """The taskmanager client used for ``context``; tests replace this hook."""
    from trove.taskmanager.rpcapi import TaskManagerAPI
    return TaskManagerAPI(context)


def _new_rpc_key():
    """The instance's RPC key, encrypted for the database (None: talk in clear)."""
    if not CONF.enable_secure_rpc_messaging:
        return None
    return rpc_crypto.new_encrypted_instance_key()


class NotImplementedYet(exception.TroveError):
    code = 501
    message = '%(feature)s is not supported by this service yet.'


class ServiceUnavailable(exception.TroveError):
    code = 503
    message = '%(detail)s'


# Create fields that change what gets built; silently dropping them would
# hand the user something other than what they asked for.
_UNSUPPORTED = (
    ('modules', 'Applying modules on create'),
    ('locality', 'Server group locality'),
)


def _refuse_unsupported(data):
    for key, feature in _UNSUPPORTED:
        if data.get(key):
            raise NotImplementedYet(feature=feature)
    if data.get('replica_count', 1) != 1 and not data.get('replica_of'):
        raise exception.BadRequest('replica_count requires replica_of.')
    region = data.get('region_name')
    if region and region != CONF.region:
        raise NotImplementedYet(feature='Creating instances in region %s' % region)


def _volume_size(data):
    volume = data.get('volume')
    if not CONF.volume_support:
        if volume:
            raise exception.VolumeNotSupported()
        return None
    if not volume:
        raise exception.BadRequest('Volume size unspecified.')
    size = int(volume['size'])
    if size > CONF.max_accepted_volume_size:
        raise exception.VolumeSizeTooLarge(size=size,
                                           max_size=CONF.max_accepted_volume_size)
    return size


def _databases(data):
    result, seen = [], set()
    for item in data.get('databases') or []:
        if item['name'] in seen:
            raise exception.BadRequest('Database %s is listed twice.' % item['name'])
        seen.add(item['name'])
        result.append({k: item[k] for k in ('name', 'character_set', 'collate')
                       if item.get(k)})
    return result


def _users(data, db_names):
    result, seen = [], set()
    for item in data.get('users') or []:
        host = item.get('host') or '%'
        if (item['name'], host) in seen:
            raise exception.BadRequest('User %s@%s is listed twice.' % (item['name'], host))
        seen.add((item['name'], host))
        dbs = [d['name'] for d in item.get('databases') or []]
        missing = [name for name in dbs if name not in db_names]
        if missing:
            raise exception.BadRequest(
                'Databases %s of user %s are not in the databases list of the '
                'request.' % (', '.join(missing), item['name']))
        result.append({'name': item['name'], 'password': item['password'],
                       'host': host, 'databases': [{'name': n} for n in dbs]})
    return result


def _configuration(context, config_id, version):
    """The values of the group to create with; 400 unless it is the project's
    and made for the same datastore version."""
    if not config_id:
        return None, {}
    try:
        group = cfg_db.get_configuration(config_id, context.project_id)
    except cfg_db.ConfigurationNotFound:
        raise exception.BadRequest('Configuration group %s was not found.' % config_id)
    if group.datastore_version_id != version.id:
        raise exception.BadRequest(
            'Configuration group %s is for another datastore version than the '
            'instance (%s).' % (group.id, version.name))
    return group.id, cfg_db.get_values(group.id)


def _flavor_ram(flavor_id):
    try:
        return flavors.find_flavor(flavor_id).ram
    except exception.TroveError:
        LOG.warning('Flavor %s is gone; its RAM is not given back to the quota', flavor_id)
        return 0


def _claim_delete(inst):
    """Move ``inst`` to DELETING, releasing its quota exactly once.

    The claim, the release of what the instance holds and the refund of a
    task it was running (a resize charged its difference) are one
    transaction (task_requests.claim_delete), so neither a concurrent
    resize ending nor a crash can count them twice or not at all.
    """
    rams = {inst.flavor_id: _flavor_ram(inst.flavor_id)}

    def release(row):
        if row.flavor_id not in rams:
            rams[row.flavor_id] = _flavor_ram(row.flavor_id)
        return quota.instance_deltas(-1, rams[row.flavor_id], row.volume_size)

    db_quotas.ensure_usages(inst.tenant_id, quota.RESOURCES)
    task_requests.claim_delete(inst.id, release)


class InstanceController:
    """``/{tenant}/instances[...]``."""

    schemas = {'create': schemas.create}

    @staticmethod
    def _version(inst, cache):
        """(datastore, version) rows of ``inst``; ``cache`` shares them across a list."""
        key = inst.datastore_version_id
        if key and key not in cache:
            try:
                version = datastores.get_version_by_id(key)
                cache[key] = (datastores.get_datastore(version.datastore_id), version)
            except exception.NotFound:
                cache[key] = (None, None)
        return cache.get(key, (None, None))

    def _info(self, inst, detail, cache):
        """Load the rows a view of one instance needs."""
        ds, version = self._version(inst, cache)
        return views.InstanceInfo(
            inst, ds, version, db_api.get_service_status(inst.id),
            db_api.get_fault(inst.id) if detail else None,
            backup_running=db_backups.running_backup(inst.id) is not None)

    def infos(self, rows, detail):
        """InstanceInfo of every row of a page, from a constant number of queries."""
        page, cache = instance_views.load(rows, faults=detail), {}
        infos = []
        for inst in rows:
            ds, version = self._version(inst, cache)
            infos.append(views.InstanceInfo(
                inst, ds, version, page.statuses.get(inst.id),
                page.faults.get(inst.id), backup_running=inst.id in page.backing_up,
                replica_ids=page.replicas.get(inst.id, []),
                config_name=page.config_names.get(inst.configuration_id)))
        return infos

    def _list(self, req, detail):
        context = middleware.get_context(req)
        policy.authorize(context, 'instance:detail' if detail else 'instance:index')
        page = CONF.instances_page_size
        limit = min(context.limit, page) if context.limit and context.limit > 0 else page
        rows = db_api.list_instances(context.project_id, limit + 1, context.marker)
        more, rows = len(rows) > limit, rows[:limit]
        render = views.detail_view if detail else views.summary_view
        body = {'instances': [render(req, context, info)
                              for info in self.infos(rows, detail)]}
        if more:
            body['links'] = links.next_page_link(req, rows[-1].id)
        return body

    def index(self, req, tenant_id):
        return self._list(req, detail=False)

    def detail(self, req, tenant_id):
        return self._list(req, detail=True)

    def show(self, req, tenant_id, id):
        context = middleware.get_context(req)
        inst = db_api.get_instance(id, context.owner)
        policy.authorize(context, 'instance:show', inst.tenant_id)
        view = views.detail_view(req, context, self._info(inst, True, {}))
        ha = high_availability.view(inst)
        if ha is not None:
            view['high_availability'] = ha
        view['pitr'] = pitr.view(inst)
        return {'instance': view}

    def create(self, req, tenant_id, body):
        context = middleware.get_context(req)
        policy.authorize(context, 'instance:create')
        data = body['instance']
        _refuse_unsupported(data)
        if data.get('replica_of'):
            high_availability.refuse_on_replica(data)
            pitr.requested(data, None)
            return self._show_new(req, context, replicas.create(context, data))
        volume_size = _volume_size(data)
        if data.get('flavorRef') is None:
            raise exception.BadRequest('flavorRef is required.')
        flavor = flavors.find_flavor(data['flavorRef'])
        ds_req = data.get('datastore') or {}
        ds, version = datastores.resolve(ds_req.get('type'), ds_req.get('version'))
        ha = high_availability.requested(data, version.manager)
        databases = _databases(data)
        users = _users(data, {d['name'] for d in databases})
        config_id, overrides = _configuration(context, data.get('configuration'), version)
        archive = pitr.requested(data, version.manager)
        # Restore: COMPLETED (409), same datastore (400), fits the volume (403);
        # to a time: inside the source's window (400).
        backup_id, to_time = pitr.restore_point(context, data.get('restorePoint'),
                                                ds, version, volume_size)
        access = data.get('access')
        build = dict(flavor=flavor.to_dict(), datastore_manager=version.manager,
                     ds_version=version.name, image_id=version.image_id,
                     databases=databases, users=users, volume_size=volume_size,
                     backup_id=backup_id, overrides=overrides)
        if to_time:
            build['pitr'] = to_time
        # The row, its quota, its build request and its archive wish are one
        # transaction: once the row exists it counts, even if the cast below
        # fails and leaves it in ERROR for the user to delete; a taskmanager
        # that dies with the cast redoes the build from the request
        # (taskmanager.recovery).
        charge = quota.charger(context.project_id,
                               quota.instance_deltas(+1, flavor.ram, volume_size))

        def charge_and_store(session, inst_id):
            charge(session)
            self._also(session, inst_id, build, context.project_id, archive)
        inst = db_api.create_instance(dict(
            name=data['name'], tenant_id=context.project_id, flavor_id=str(flavor.id),
            volume_size=volume_size, datastore_version_id=version.id,
            region_id=CONF.region, access=json.dumps(access) if access else None,
            encrypted_key=_new_rpc_key(), configuration_id=config_id),
            also=charge_and_store)
        LOG.info('Instance %s (%s) requested: %s %s, flavor %s, volume %s GB',
                 inst.id, inst.name, ds.name, version.name, flavor.id, volume_size)
        high_availability.apply(inst.id, ha)
        self._cast_create(context, inst, build)
        # A new instance has no fault, backup or replica yet: only its
        # service row (NEW) is read back.
        return {'instance': views.detail_view(req, context, views.InstanceInfo(
            inst, ds, version, db_api.get_service_status(inst.id), replica_ids=[]))}

    @staticmethod
    def _also(session, inst_id, build, tenant_id, archive):
        """What is stored with the new row: the build request, the archive wish."""
        task_requests.save(session, inst_id, 'create_instance', build)
        if archive:
            pitr.record_on_create(session, inst_id, tenant_id)

    def _show_new(self, req, context, inst):
        """The view of a just-created instance (its row read again)."""
        inst = db_api.get_instance(inst.id)
        return {'instance': views.detail_view(req, context, self._info(inst, True, {}))}

    def _cast_create(self, context, inst, build):
        try:
            get_taskmanager(context).create_instance(instance_id=inst.id, **build)
        except Exception as exc:
            # Without the cast nobody would move the instance out of BUILD
            # until a taskmanager restart; put it in an error state the user
            # can see and delete.
            LOG.error('Casting create_instance for %s failed: %s', inst.id, exc)
            task_requests.finish(inst.id)
            db_api.set_task(inst.id, Task.BUILDING_ERROR_SERVER)
            db_api.save_fault(inst.id, 'The build request could not be sent to the '
                                       'taskmanager.', details=traceback.format_exc())
            raise ServiceUnavailable(detail='Instance %s could not be scheduled: the '
                                            'taskmanager is unreachable. It is in ERROR '
                                            'and can be deleted.' % inst.id)

    def delete(self, req, tenant_id, id):
        context = middleware.get_context(req)
        inst = db_api.get_instance(id, context.owner)
        policy.authorize(context, 'instance:delete', inst.tenant_id)
        replicas.refuse_delete(inst)
        _claim_delete(inst)
        # With the user's token: only the secret's project may drop consumers.
        ssl_api.release_consumers(context, inst)
        LOG.info('Instance %s delete requested', id)
        get_taskmanager(context).delete_instance(instance_id=id)
        return wsgi.Result(status=202)
