"""The admin API under ``/{tenant}/mgmt``: instances of every project (and
their admin actions), datastore versions and the configuration parameter
catalogue.

Every action is authorised by a ``mgmt:*`` policy rule (admin by default).
"""
import json

from oslo_log import log as logging

from trove.api import links, middleware, wsgi
from trove.api.controllers import claims, guest_access, rebuilds
from trove.api.controllers import instances as instance_ctl
from trove.api.views import instances as views
from trove.common import exception, policy, readiness, states
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import configurations as config_db
from trove.db import datastores
from trove.db import mgmt as db
from trove.db import root_history

LOG = logging.getLogger(__name__)
Task = states.InstanceTask
_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255, 'pattern': r'\S'}
_TEXT = {'type': ['string', 'null'], 'maxLength': 255}
# Stored comma-joined in a 255 (tags) or 511 (packages) character column.
_TAGS = {'oneOf': [{'type': 'array', 'maxItems': 20,
                    'items': {'type': 'string', 'maxLength': 64}},
                   {'type': 'string', 'maxLength': 255}]}
_FLAG = {'oneOf': [{'type': 'boolean'}, {'type': 'integer', 'enum': [0, 1]}]}

version_create = {
    'type': 'object', 'required': ['version'], 'additionalProperties': False,
    'properties': {'version': {
        'type': 'object', 'additionalProperties': False,
        'required': ['name', 'datastore_name', 'datastore_manager'],
        'properties': {
            'name': _NAME, 'datastore_name': _NAME, 'datastore_manager': _NAME,
            'image': _TEXT, 'image_tags': _TAGS,
            'packages': _TAGS, 'active': _FLAG, 'default': _FLAG,
            'version': _TEXT, 'registry_ext': _TEXT, 'repl_strategy': _TEXT}}},
}

version_edit = {
    'type': 'object', 'additionalProperties': False, 'minProperties': 1,
    'properties': {'image': _TEXT, 'image_tags': _TAGS,
                   'packages': _TAGS, 'active': _FLAG, 'default': _FLAG,
                   'name': _NAME, 'registry_ext': dict(_TEXT, type='string'),
                   'repl_strategy': dict(_TEXT, type='string')},
}

_BOUND = {'type': ['integer', 'number', 'string', 'null']}
parameter_body = {
    'type': 'object', 'required': ['configuration-parameter'],
    'additionalProperties': False,
    'properties': {'configuration-parameter': {
        'type': 'object', 'additionalProperties': False,
        'required': ['name', 'data_type', 'restart_required'],
        'properties': {'name': _NAME, 'data_type': {'enum': list(config_db.DATA_TYPES)},
                       'restart_required': _FLAG, 'min': _BOUND, 'max': _BOUND}}},
}


_EMPTY = {'type': 'object'}
instance_action = {
    'type': 'object', 'minProperties': 1, 'maxProperties': 1,
    'additionalProperties': False,
    'properties': {'stop': _EMPTY, 'reboot': _EMPTY, 'reset-task-status': _EMPTY,
                   'migrate': _EMPTY,
                   'rebuild': {'type': 'object', 'required': ['image_id'],
                               'additionalProperties': False,
                               'properties': {'image_id': {
                                   'type': 'string', 'minLength': 1, 'maxLength': 255}}}},
}


def _joined(value, limit=255):
    """A tag or package list as its stored comma-joined string (400 if too long)."""
    if isinstance(value, list):
        value = ','.join(v.strip() for v in value if v.strip())
    if value and len(value) > limit:
        raise exception.BadRequest('%s... is longer than %d characters once joined.'
                                   % (value[:40], limit))
    return value


def _deleted_flag(req):
    raw = req.GET.get('deleted')
    if raw is None or raw == '':
        return None
    return raw.lower() in ('1', 'true', 'yes')


class MgmtInstanceController:
    """``/mgmt/instances``: instances of every project, deleted ones on request."""

    schemas = {'action': instance_action}

    def _view(self, req, context, inst, info=None):
        info = info or instance_ctl.InstanceController()._info(inst, True, {})
        view = views.detail_view(req, context, info)
        view.update(tenant_id=inst.tenant_id, deleted=bool(inst.deleted),
                    deleted_at=links.isotime(inst.deleted_at) if inst.deleted_at else None,
                    task_description=inst.task_description,
                    service_status=info.service.status_description if info.service else None,
                    server={'id': inst.compute_instance_id, 'status': inst.server_status,
                            'host': inst.hostname})
        stream = info.service.replication if info.service else None
        if stream:
            # {following, lag, healthy, broken, error}: lag in seconds
            # (MariaDB, Redis) or bytes (PostgreSQL) behind the primary.
            view['replication'] = json.loads(stream)
        return view

    def index(self, req, tenant_id):
        context = middleware.get_context(req)
        policy.authorize(context, 'mgmt:instance:index')
        page = CONF.instances_page_size
        limit = min(context.limit, page) if context.limit and context.limit > 0 else page
        rows = db.list_instances(_deleted_flag(req), limit + 1, context.marker)
        more, rows = len(rows) > limit, rows[:limit]
        infos = instance_ctl.InstanceController().infos(rows, True)
        body = {'instances': [self._view(req, context, info.inst, info) for info in infos]}
        if more:
            body['links'] = links.next_page_link(req, rows[-1].id)
        return body

    def show(self, req, tenant_id, id):
        context = middleware.get_context(req)
        policy.authorize(context, 'mgmt:instance:show')
        inst = db_api.get_instance(id, deleted=bool(_deleted_flag(req)))
        return {'instance': self._view(req, context, inst)}

    def root(self, req, tenant_id, id):
        """Who last enabled root on the instance, and when ('Never'/'Nobody' if nobody)."""
        context = middleware.get_context(req)
        policy.authorize(context, 'mgmt:instance:root')
        inst = db_api.get_instance(id)
        try:
            row = root_history.get(inst.id)
        except exception.RootHistoryNotFound:
            return {'root_history': {'id': inst.id, 'enabled': 'Never', 'user': 'Nobody'}}
        return {'root_history': {'id': inst.id, 'enabled': links.isotime(row.created),
                                 'user': row.user}}

    def action(self, req, tenant_id, id, body):
        """POST .../action: ``stop``, ``reboot`` or ``reset-task-status``; 202."""
        context = middleware.get_context(req)
        policy.authorize(context, 'mgmt:instance:action')
        inst = db_api.get_instance(id)
        (name, args), = body.items()
        if name == 'migrate':
            raise instance_ctl.NotImplementedYet(feature='The %s action' % name)
        if name == 'rebuild':
            return rebuilds.rebuild(context, inst, args['image_id'])
        if name == 'reset-task-status':
            db_api.set_task(inst.id, Task.NONE)
            claims.fail_running_backups(inst.id)
            LOG.info('Instance %s task reset by an administrator', inst.id)
            return wsgi.Result(status=202)
        task = Task.from_code(inst.task_id)
        if task not in claims.ACTIONABLE_TASKS:
            raise exception.InstanceNotAvailable(instance_id=inst.id, task=task.name)
        if name == 'stop':
            readiness.refuse_silent_guest(inst.id)
            guest_access.get_guest(context, inst.id).stop_db()
            LOG.info('Instance %s: database stopped by an administrator', inst.id)
            return wsgi.Result(status=202)
        return self._reboot(context, inst)

    def _reboot(self, context, inst):
        if not inst.compute_instance_id:
            raise exception.UnprocessableEntity(
                detail='instance %s has no server to reboot.' % inst.id)
        if claims.running_backups(inst.id):
            if not db_api.guest_silent(db_api.get_service_status(inst.id)):
                raise exception.UnprocessableEntity(
                    detail='instance %s is not available: a backup is running.' % inst.id)
            # A guest that stopped reporting cannot finish its backup; the
            # reboot is the repair, so the backup ends now instead of
            # blocking it until the stall watchdog.
            for backup_id in claims.fail_running_backups(inst.id):
                db_api.save_fault(inst.id, 'Backup %s failed: the guest agent stopped '
                                           'reporting; the instance was rebooted.' % backup_id)
        restore = claims.claim_task(inst, Task.REBOOTING,
                                              states.ServiceStatus.SHUTDOWN,
                                              request=('reboot', {}))
        tm = instance_ctl.get_taskmanager(context)
        return claims.cast_or_restore(inst, Task.REBOOTING, restore, 'reboot',
                                                lambda: tm.reboot(instance_id=inst.id))


def version_view(version, datastore):
    """A datastore version as the mgmt API shows it."""
    return {'id': version.id, 'name': version.name, 'datastore_id': datastore.id,
            'datastore_name': datastore.name, 'datastore_manager': version.manager,
            'image': version.image_id,
            'image_tags': version.image_tags.split(',') if version.image_tags else [],
            'packages': version.packages.split(',') if version.packages else [],
            'active': bool(version.active),
            'default': datastore.default_version_id == version.id,
            'version': version.version, 'registry_ext': version.registry_ext,
            'repl_strategy': version.repl_strategy}


class DatastoreVersionController:
    """``/mgmt/datastore-versions``: the catalogue of buildable versions."""

    schemas = {'create': version_create, 'edit': version_edit}

    def index(self, req, tenant_id):
        policy.authorize(middleware.get_context(req), 'mgmt:datastore_version:index')
        return {'versions': [version_view(v, ds) for v, ds in db.list_versions()]}

    def show(self, req, tenant_id, id):
        policy.authorize(middleware.get_context(req), 'mgmt:datastore_version:show')
        version = datastores.get_version_by_id(id)
        return {'version': version_view(version,
                                        datastores.get_datastore(version.datastore_id))}

    def create(self, req, tenant_id, body):
        policy.authorize(middleware.get_context(req), 'mgmt:datastore_version:create')
        data = body['version']
        try:
            ds = datastores.get_datastore(data['datastore_name'])
            exists = any(v.name == data['name'] for v in
                         datastores.list_versions(ds.id, only_active=False))
        except exception.DatastoreNotFound:
            exists = False
        if exists:
            raise exception.BadRequest('Datastore version %s of %s already exists.'
                                       % (data['name'], data['datastore_name']))
        datastores.datastore_update(data['datastore_name'])
        datastores.version_update(
            data['datastore_name'], data['name'], data['datastore_manager'],
            image_id=data.get('image') or '', packages=_joined(data.get('packages'), 511) or '',
            active=data.get('active', True), version=data.get('version'),
            image_tags=_joined(data.get('image_tags')) or None,
            registry_ext=data.get('registry_ext') or '',
            repl_strategy=data.get('repl_strategy') or '')
        if data.get('default'):
            datastores.datastore_update(data['datastore_name'], data['name'])
        return wsgi.Result(status=202)

    def edit(self, req, tenant_id, id, body):
        policy.authorize(middleware.get_context(req), 'mgmt:datastore_version:edit')
        version = datastores.get_version_by_id(id)
        ds = datastores.get_datastore(version.datastore_id)
        db.edit_version(id, image_id=body.get('image'), name=body.get('name'),
                        image_tags=_joined(body.get('image_tags')),
                        packages=_joined(body.get('packages'), 511),
                        active=None if 'active' not in body else bool(body['active']),
                        registry_ext=body.get('registry_ext'),
                        repl_strategy=body.get('repl_strategy'))
        if body.get('default'):
            datastores.datastore_update(ds.name, body.get('name') or version.name)
        elif 'default' in body and ds.default_version_id == id:
            datastores.datastore_update(ds.name, '')
        return wsgi.Result(status=202)

    def delete(self, req, tenant_id, id):
        policy.authorize(middleware.get_context(req), 'mgmt:datastore_version:delete')
        datastores.get_version_by_id(id)
        db.delete_version(id)
        LOG.info('Datastore version %s deleted by an administrator', id)
        return wsgi.Result(status=202)


def parameter_view(param):
    """A catalogue entry (``configuration-parameter``)."""
    view = {'name': param.name, 'datastore_version_id': param.datastore_version_id,
            'restart_required': bool(param.restart_required), 'type': param.data_type}
    for key, stored in (('min', param.min_size), ('max', param.max_size)):
        if stored is not None:
            view[key] = config_db.parse_bound(stored)
    return view


class ParameterController:
    """``/mgmt/datastores/versions/{version_id}/parameters``: catalogue CRUD."""

    schemas = {'create': parameter_body, 'update': parameter_body}

    def index(self, req, tenant_id, version_id):
        policy.authorize(middleware.get_context(req), 'mgmt:parameter:index')
        datastores.get_version_by_id(version_id)
        return {'configuration-parameters': [
            parameter_view(p) for p in config_db.list_parameters(version_id)]}

    def show(self, req, tenant_id, version_id, id):
        policy.authorize(middleware.get_context(req), 'mgmt:parameter:show')
        datastores.get_version_by_id(version_id)
        return parameter_view(config_db.get_parameter(version_id, id))

    def _save(self, version_id, data):
        rule = dict(data, restart_required=bool(data['restart_required']))
        config_db.load_parameters(version_id, {'configuration-parameters': [rule]})
        return {'configuration-parameter':
                parameter_view(config_db.get_parameter(version_id, data['name']))}

    def create(self, req, tenant_id, version_id, body):
        policy.authorize(middleware.get_context(req), 'mgmt:parameter:create')
        datastores.get_version_by_id(version_id)
        data = body['configuration-parameter']
        if any(p.name == data['name'] for p in config_db.list_parameters(version_id)):
            raise exception.BadRequest('Parameter %s already exists for version %s.'
                                       % (data['name'], version_id))
        return self._save(version_id, data)

    def update(self, req, tenant_id, version_id, id, body):
        policy.authorize(middleware.get_context(req), 'mgmt:parameter:update')
        datastores.get_version_by_id(version_id)
        config_db.get_parameter(version_id, id)
        data = body['configuration-parameter']
        if data['name'] != id:
            raise exception.BadRequest('The body names parameter %s, the URL %s.'
                                       % (data['name'], id))
        return self._save(version_id, data)

    def delete(self, req, tenant_id, version_id, id):
        policy.authorize(middleware.get_context(req), 'mgmt:parameter:delete')
        datastores.get_version_by_id(version_id)
        if not db.delete_parameter(version_id, id):
            raise config_db.ParameterNotFound(uuid=id)
        return wsgi.Result(status=204)
