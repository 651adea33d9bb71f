"""Rules of /backups and /backup_strategies."""
from trove.common.policies import base

rules = base.operations('backup', '/v1.0/{account_id}/backups', [
    ('create', 'POST', ''),
    ('delete', 'DELETE', '/{backup}'),
    ('index', 'GET', ''),
    ('index:all_projects', 'GET', '?all_projects', 'role:admin'),
    ('show', 'GET', '/{backup}'),
]) + base.operations('backup_strategy', '/v1.0/{account_id}/backup_strategies', [
    ('create', 'POST', ''),
    ('index', 'GET', ''),
    ('delete', 'DELETE', ''),
])


def list_rules():
    return rules
