"""Rules of /flavors and /volume-types (open to every authenticated caller)."""
from trove.common.policies import base

PATH = '/v1.0/{account_id}/flavors'
VOLUME_TYPES_PATH = '/v1.0/{account_id}/volume-types'

rules = base.operations('flavor', PATH, [
    ('index', 'GET', ''),
    ('show', 'GET', '/{flavor_id}'),
], default=base.RULE_ANY) + base.operations('volume_type', VOLUME_TYPES_PATH, [
    ('index', 'GET', ''),
    ('show', 'GET', '/{volume_type_id}'),
], default=base.RULE_ANY)


def list_rules():
    return rules
