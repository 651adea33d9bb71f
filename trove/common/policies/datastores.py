"""Rules of /datastores (reads are open to every authenticated caller)."""
from trove.common.policies import base

PATH = '/v1.0/{account_id}/datastores'

rules = base.operations('datastore', PATH, [
    ('index', 'GET', ''),
    ('show', 'GET', '/{datastore}'),
    ('delete', 'DELETE', '/{datastore}', base.RULE_ADMIN),
    ('version_index', 'GET', '/{datastore}/versions'),
    ('version_show', 'GET', '/{datastore}/versions/{version}'),
    ('version_show_by_uuid', 'GET', '/versions/{version_id}'),
    ('list_associated_flavors', 'GET', '/{datastore}/versions/{version}/flavors'),
    ('list_associated_volume_types', 'GET',
     '/{datastore}/versions/{version}/volume-types'),
], default=base.RULE_ANY)


def list_rules():
    return rules
