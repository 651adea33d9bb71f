"""Rules of /flavors (open to every authenticated caller)."""
from trove.common.policies import base

PATH = '/v1.0/{account_id}/flavors'

rules = base.operations('flavor', PATH, [
    ('index', 'GET', ''),
    ('show', 'GET', '/{flavor_id}'),
], default=base.RULE_ANY)


def list_rules():
    return rules
