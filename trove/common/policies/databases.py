"""Rules of /instances/{id}/databases."""
from trove.common.policies import base

PATH = '/v1.0/{account_id}/instances/{instance_id}/databases'

rules = base.operations('instance:extension:database', PATH, [
    ('create', 'POST', ''),
    ('index', 'GET', ''),
    ('show', 'GET', '/{database}'),
    ('delete', 'DELETE', '/{database}'),
])


def list_rules():
    return rules
