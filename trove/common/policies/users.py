"""Rules of /instances/{id}/users and user access."""
from trove.common.policies import base

PATH = '/v1.0/{account_id}/instances/{instance_id}/users'

rules = base.operations('instance:extension:user', PATH, [
    ('create', 'POST', ''),
    ('index', 'GET', ''),
    ('show', 'GET', '/{user}'),
    ('update', 'PUT', '/{user}'),
    ('update_all', 'PUT', ''),
    ('delete', 'DELETE', '/{user}'),
]) + base.operations('instance:extension:user_access', PATH, [
    ('index', 'GET', '/{user}/databases'),
    ('update', 'PUT', '/{user}/databases'),
    ('delete', 'DELETE', '/{user}/databases/{database}'),
])


def list_rules():
    return rules
