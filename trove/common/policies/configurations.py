"""Rules of /configurations and the configuration parameter catalogue."""
from trove.common.policies import base

PATH = '/v1.0/{account_id}/configurations'
PARAMS = '/v1.0/{account_id}/datastores'

rules = base.operations('configuration', PATH, [
    ('create', 'POST', ''),
    ('delete', 'DELETE', '/{config}'),
    ('index', 'GET', ''),
    ('show', 'GET', '/{config}'),
    ('instances', 'GET', '/{config}/instances'),
    ('update', 'PUT', '/{config}'),
    ('edit', 'PATCH', '/{config}'),
]) + base.operations('configuration-parameter', PARAMS, [
    ('index', 'GET', '/{datastore}/versions/{version}/parameters'),
    ('show', 'GET', '/{datastore}/versions/{version}/parameters/{param}'),
    ('index_by_version', 'GET', '/versions/{version}/parameters'),
    ('show_by_version', 'GET', '/versions/{version}/parameters/{param}'),
], default=base.RULE_ANY)


def list_rules():
    return rules
