"""Rules of /limits."""
from trove.common.policies import base

rules = base.operations('limits', '/v1.0/{account_id}/limits', [
    ('index', 'GET', ''),
])


def list_rules():
    return rules
