"""Rules of /instances and its actions."""
from trove.common.policies import base

PATH = '/v1.0/{account_id}/instances'

rules = base.operations('instance', PATH, [
    ('create', 'POST', ''),
    ('delete', 'DELETE', '/{instance_id}'),
    ('force_delete', 'POST', '/{instance_id}/action (reset_status force_delete)'),
    ('index', 'GET', ''),
    ('detail', 'GET', '/detail'),
    ('show', 'GET', '/{instance_id}'),
    ('update', 'PUT', '/{instance_id}'),
    ('edit', 'PATCH', '/{instance_id}'),
    ('restart', 'POST', '/{instance_id}/action (restart)'),
    ('resize_volume', 'POST', '/{instance_id}/action (resize volume)'),
    ('resize_flavor', 'POST', '/{instance_id}/action (resize flavorRef)'),
    ('reset_status', 'POST', '/{instance_id}/action (reset_status)', base.RULE_ADMIN),
    ('promote_to_replica_source', 'POST', '/{instance_id}/action (promote)'),
    ('eject_replica_source', 'POST', '/{instance_id}/action (eject)'),
    ('configuration', 'GET', '/{instance_id}/configuration'),
    ('guest_log_list', 'GET', '/{instance_id}/log'),
    ('guest_log_action', 'POST', '/{instance_id}/log'),
    ('ssl_show', 'GET', '/{instance_id}/ssl'),
    ('ssl_action', 'POST', '/{instance_id}/ssl (enable, disable, rollback)'),
    ('backups', 'GET', '/{instance_id}/backups'),
    ('failovers', 'GET', '/{instance_id}/failovers'),
    ('backup_schedule_index', 'GET', '/{instance_id}/backup_schedules'),
    ('backup_schedule_show', 'GET', '/{instance_id}/backup_schedules/{schedule_id}'),
    ('backup_schedule_create', 'POST', '/{instance_id}/backup_schedules'),
    ('backup_schedule_delete', 'DELETE', '/{instance_id}/backup_schedules/{schedule_id}'),
    ('module_list', 'GET', '/{instance_id}/modules'),
    ('module_apply', 'POST', '/{instance_id}/modules'),
    ('module_remove', 'DELETE', '/{instance_id}/modules/{module_id}'),
])


def list_rules():
    return rules
