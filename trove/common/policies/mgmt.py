"""Rules of the admin-only /mgmt API."""
from trove.common.policies import base

PATH = '/v1.0/{account_id}/mgmt'

rules = base.operations('mgmt', PATH, [
    ('instance:index', 'GET', '/instances'),
    ('instance:show', 'GET', '/instances/{instance_id}'),
    ('instance:action', 'POST', '/instances/{instance_id}/action'),
    ('instance:root', 'GET', '/instances/{instance_id}/root'),
    ('failover:index', 'GET', '/failovers'),
    ('datastore_version:index', 'GET', '/datastore-versions'),
    ('datastore_version:show', 'GET', '/datastore-versions/{version_id}'),
    ('datastore_version:create', 'POST', '/datastore-versions'),
    ('datastore_version:edit', 'PATCH', '/datastore-versions/{version_id}'),
    ('datastore_version:delete', 'DELETE', '/datastore-versions/{version_id}'),
    ('parameter:index', 'GET', '/datastores/versions/{version_id}/parameters'),
    ('parameter:show', 'GET', '/datastores/versions/{version_id}/parameters/{name}'),
    ('parameter:create', 'POST', '/datastores/versions/{version_id}/parameters'),
    ('parameter:update', 'PUT', '/datastores/versions/{version_id}/parameters/{name}'),
    ('parameter:delete', 'DELETE', '/datastores/versions/{version_id}/parameters/{name}'),
], default=base.RULE_ADMIN)


def list_rules():
    return rules
