"""Rules of /instances/{id}/root."""
from trove.common.policies import base

PATH = '/v1.0/{account_id}/instances/{instance_id}/root'

rules = base.operations('instance:extension:root', PATH, [
    ('create', 'POST', ''),
    ('index', 'GET', ''),
    ('delete', 'DELETE', ''),
])


def list_rules():
    return rules
