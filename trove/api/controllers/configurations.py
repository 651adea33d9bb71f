"""Configuration groups: ``/{tenant}/configurations[...]``.

Values are checked against the datastore version's parameter catalogue
before anything is stored.  Editing a group re-applies it to every
instance that uses it through the taskmanager (``apply_configuration``),
which writes the engine config, sets dynamic values live and flags a
restart when a static one changed.
"""
from oslo_log import log as logging

from trove.api import links, middleware, wsgi
from trove.api.controllers import instances as instances_ctl
from trove.api.schemas import configurations as schemas
from trove.api.views import configurations as views
from trove.common import exception, policy
from trove.conf import CONF
from trove.db import configurations as cfg_db
from trove.db import task_requests
from trove.db import datastores

LOG = logging.getLogger(__name__)


def group_info(row):
    try:
        version = datastores.get_version_by_id(row.datastore_version_id)
        return views.GroupInfo(row, datastores.get_datastore(version.datastore_id), version)
    except exception.NotFound:
        return views.GroupInfo(row, None, None)


def send_configuration(tm, instance_id, old_values, new_values):
    """Have the taskmanager apply a change; the request is stored first, so a
    taskmanager that dies with it applies it when it starts again."""
    args = {'old_values': old_values, 'new_values': new_values}
    task_requests.record_if_absent(instance_id, 'apply_configuration', args)
    tm.apply_configuration(instance_id=instance_id, **args)


def reapply(context, config_id, old_values, new_values):
    """Cast the change to every attached instance; returns how many were told."""
    rows = cfg_db.attached_instances(config_id)
    tm = instances_ctl.get_taskmanager(context)
    for inst in rows:
        send_configuration(tm, inst.id, old_values, new_values)
    if rows:
        LOG.info('Configuration %s re-applied to %d instance(s)', config_id, len(rows))
    return len(rows)


class ConfigurationController:
    """CRUD of configuration groups."""

    schemas = {'create': schemas.create, 'edit': schemas.edit, 'update': schemas.update}

    def index(self, req, tenant_id):
        context = middleware.get_context(req)
        policy.authorize(context, 'configuration:index')
        page = CONF.instances_page_size
        limit = min(context.limit, page) if context.limit and context.limit > 0 else page
        rows = cfg_db.list_configurations(context.project_id, limit + 1, context.marker)
        more, rows = len(rows) > limit, rows[:limit]
        body = {'configurations': [views.summary_view(group_info(r)) for r in rows]}
        if more:
            body['links'] = links.next_page_link(req, rows[-1].id)
        return body

    def _detail(self, row):
        return {'configuration': views.detail_view(
            group_info(row), cfg_db.get_values(row.id), cfg_db.instance_count(row.id))}

    def _find(self, context, action, config_id):
        row = cfg_db.get_configuration(config_id, context.owner)
        policy.authorize(context, 'configuration:%s' % action, row.tenant_id)
        return row

    def show(self, req, tenant_id, id):
        context = middleware.get_context(req)
        return self._detail(self._find(context, 'show', id))

    def create(self, req, tenant_id, body):
        context = middleware.get_context(req)
        policy.authorize(context, 'configuration:create')
        data = body['configuration']
        ds_req = data.get('datastore') or {}
        ds, version = datastores.resolve(ds_req.get('type'), ds_req.get('version'))
        values = data['values']
        cfg_db.validate_values(version.id, values)
        row = cfg_db.create_configuration(context.project_id, data['name'],
                                          data.get('description'), version.id, values)
        LOG.info('Configuration %s (%s) created for %s %s with %d values', row.id,
                 row.name, ds.name, version.name, len(values))
        return self._detail(row)

    def instances(self, req, tenant_id, id):
        context = middleware.get_context(req)
        self._find(context, 'instances', id)
        return views.instances_view(req, tenant_id, cfg_db.attached_instances(id))

    def edit(self, req, tenant_id, id, body):
        """PATCH: merge values into the group and re-apply it; 200 without a body."""
        context = middleware.get_context(req)
        row = self._find(context, 'edit', id)
        old = cfg_db.get_values(id)
        new = dict(old, **body['configuration']['values'])
        cfg_db.validate_values(row.datastore_version_id, new)
        cfg_db.save_group(id, new)
        reapply(context, id, old, new)
        return wsgi.Result(status=200)

    def update(self, req, tenant_id, id, body):
        """PUT: replace values (and name/description) and re-apply; 202."""
        context = middleware.get_context(req)
        row = self._find(context, 'update', id)
        data = body['configuration']
        old = cfg_db.get_values(id)
        new = data['values']
        cfg_db.validate_values(row.datastore_version_id, new)
        cfg_db.save_group(id, new, name=data.get('name'), description=data.get('description'))
        reapply(context, id, old, new)
        return wsgi.Result(status=202)

    def delete(self, req, tenant_id, id):
        context = middleware.get_context(req)
        self._find(context, 'delete', id)
        count = cfg_db.instance_count(id)
        if count:
            raise exception.BadRequest(
                'Configuration group %s is attached to %d instance(s); detach it '
                'before deleting it.' % (id, count))
        cfg_db.delete_configuration(id)
        LOG.info('Configuration %s deleted', id)
        return wsgi.Result(status=202)
