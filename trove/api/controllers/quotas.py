"""``/{tenant}/mgmt/quotas/{project}``: show (owner or admin) and update (admin)."""
from trove.api import middleware
from trove.common import exception, policy, quota

update_schema = {
    'type': 'object',
    'required': ['quotas'],
    'additionalProperties': False,
    'properties': {'quotas': {
        'type': 'object', 'minProperties': 1,
        'additionalProperties': {'type': 'integer', 'minimum': -1}}},
}


class QuotaController:
    """Quota usage and limits of one project."""

    schemas = {'update': update_schema}

    def show(self, req, tenant_id, id):
        context = middleware.get_context(req)
        policy.authorize(context, 'quota:show', id)
        return {'quotas': quota.get_usage(id)}

    def update(self, req, tenant_id, id, body):
        context = middleware.get_context(req)
        policy.authorize(context, 'quota:update', id)
        if not id.strip():
            raise exception.BadRequest('A project id is required.')
        return {'quotas': quota.set_limits(id, body['quotas'])}
