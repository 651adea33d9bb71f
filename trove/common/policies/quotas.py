"""Rules of /mgmt/quotas: owners may read their own, only admins change them."""
from trove.common.policies import base

rules = base.operations('quota', '/v1.0/{account_id}/mgmt/quotas', [
    ('show', 'GET', '/{project_id}'),
    ('update', 'PUT', '/{project_id}', base.RULE_ADMIN),
])


def list_rules():
    return rules
