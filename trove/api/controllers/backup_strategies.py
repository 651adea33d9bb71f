"""Backup strategies: which container a project's (or an instance's) backups use."""
from trove.api import middleware, wsgi
from trove.api.schemas import backups as schemas
from trove.api.views import backups as views
from trove.common import exception, policy
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backups as db_backups


def _project(context, params):
    project = params.get('project_id')
    if project and project != context.project_id and not context.is_admin:
        raise exception.PolicyNotAuthorized(action='backup_strategy:other_project')
    return project or context.project_id


class BackupStrategyController:
    """``/{tenant}/backup_strategies``."""

    schemas = {'create': schemas.strategy_create}

    def index(self, req, tenant_id):
        context = middleware.get_context(req)
        policy.authorize(context, 'backup_strategy:index')
        rows = db_backups.list_strategies(_project(context, req.GET),
                                          req.GET.get('instance_id'))
        return {'backup_strategies': [views.strategy_view(r) for r in rows]}

    def create(self, req, tenant_id, body):
        context = middleware.get_context(req)
        policy.authorize(context, 'backup_strategy:create')
        data = body['backup_strategy']
        instance_id = data.get('instance_id') or ''
        if instance_id:
            db_api.get_instance(instance_id, context.owner)
        row = db_backups.upsert_strategy(context.project_id, instance_id,
                                         CONF.backup.storage_driver, data['swift_container'])
        return wsgi.Result({'backup_strategy': views.strategy_view(row)}, status=202)

    def delete(self, req, tenant_id):
        context = middleware.get_context(req)
        policy.authorize(context, 'backup_strategy:delete')
        project = _project(context, req.GET)
        db_backups.delete_strategy(project, req.GET.get('instance_id') or '')
        return wsgi.Result(status=202)
