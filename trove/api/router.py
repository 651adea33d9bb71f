"""Routes mapper of the v1.0 API and the WSGI app that dispatches through it.

Paths here are relative to ``/v1.0`` (the paste composite strips it).
A path that exists under another method answers 405 ``badMethod``; an
unknown path answers 404 ``itemNotFound``.
"""
import routes
import webob.dec

from trove.api import wsgi
from trove.api.controllers import databases, datastores, flavors, instances, versions
from trove.api.controllers import logs, root, users
from trove.api.controllers import ssl as ssl_api
from trove.api.controllers import configurations, instance_actions, parameters
from trove.api.controllers import failovers, limits, mgmt, quotas
from trove.api.controllers import backup_schedules, backup_strategies, backups, volume_types

_METHODS = ('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD')


# "/instances/detail" is a route of its own: an instance id never reads
# "detail", so PUT/PATCH/DELETE there answer 405 with ``Allow: GET`` instead
# of looking up an instance named "detail".
_INSTANCE_ID = {'id': r'(?!detail$)[^/]+'}


def _connect(mapper, resource, path, action, method, requirements=None):
    mapper.connect(path, controller=resource, action=action,
                   conditions={'method': [method]}, requirements=requirements or {})


# The usual shape of a resource: list and create on the collection, the
# rest on one item below it.
COLLECTION = (('index', 'GET'), ('create', 'POST'))
ITEM = (('show', 'GET'), ('delete', 'DELETE'))
# A read-only catalogue: list it, show one entry.
LIST, SHOW = (('index', 'GET'),), (('show', 'GET'),)


def _resource(mapper, res, base, collection=COLLECTION, item=ITEM, item_path='/{id}',
              requirements=None):
    """Connect ``collection`` actions at ``base`` and ``item`` actions below it."""
    for action, method in collection:
        _connect(mapper, res, base, action, method)
    for action, method in item:
        _connect(mapper, res, base + item_path, action, method, requirements)


def _instance_routes(mapper):
    res = wsgi.Resource(instances.InstanceController())
    base = '/{tenant_id}/instances'
    _connect(mapper, res, base + '/detail', 'detail', 'GET')
    _resource(mapper, res, base, requirements=_INSTANCE_ID)


def _instance_engine_routes(mapper):
    """Databases, users (with their access) and root of one instance."""
    base = '/{tenant_id}/instances/{instance_id}'
    _resource(mapper, wsgi.Resource(databases.DatabaseController()), base + '/databases')
    _resource(mapper, wsgi.Resource(users.UserController()), base + '/users',
              collection=COLLECTION + (('update_all', 'PUT'),),
              item=ITEM + (('update', 'PUT'),))
    _resource(mapper, wsgi.Resource(users.UserAccessController()),
              base + '/users/{user_id}/databases',
              collection=(('index', 'GET'), ('update', 'PUT')), item=(('delete', 'DELETE'),))
    _resource(mapper, wsgi.Resource(root.RootController()), base + '/root',
              collection=COLLECTION + (('delete', 'DELETE'),), item=())


def _datastore_routes(mapper):
    res = wsgi.Resource(datastores.DatastoreController())
    base = '/{tenant_id}/datastores'
    _connect(mapper, res, base, 'index', 'GET')
    # Before "{datastore}/versions" so a version uuid is not read as a datastore.
    _connect(mapper, res, base + '/versions/{uuid}', 'version_show_by_uuid', 'GET')
    _connect(mapper, res, base + '/{id}', 'show', 'GET')
    _connect(mapper, res, base + '/{id}', 'delete', 'DELETE')
    _connect(mapper, res, base + '/{datastore}/versions', 'version_index', 'GET')
    _connect(mapper, res, base + '/{datastore}/versions/{id}', 'version_show', 'GET')
    flavor_res = wsgi.Resource(flavors.FlavorController())
    _connect(mapper, flavor_res, base + '/{datastore}/versions/{version_id}/flavors',
             'index_for_version', 'GET')
    types_res = wsgi.Resource(volume_types.VolumeTypeController())
    _connect(mapper, types_res, base + '/{datastore}/versions/{version_id}/volume-types',
             'index_for_version', 'GET')


def _flavor_routes(mapper):
    _resource(mapper, wsgi.Resource(flavors.FlavorController()), '/{tenant_id}/flavors',
              collection=LIST, item=SHOW)
    _resource(mapper, wsgi.Resource(volume_types.VolumeTypeController()),
              '/{tenant_id}/volume-types', collection=LIST, item=SHOW)


def _mgmt_routes(mapper):
    """Limits, quotas and the admin API."""
    _connect(mapper, wsgi.Resource(limits.LimitsController()), '/{tenant_id}/limits',
             'index', 'GET')
    base = '/{tenant_id}/mgmt'
    _resource(mapper, wsgi.Resource(quotas.QuotaController()), base + '/quotas',
              collection=(), item=(('show', 'GET'), ('update', 'PUT')))
    inst = wsgi.Resource(mgmt.MgmtInstanceController())
    _resource(mapper, inst, base + '/instances', collection=LIST, item=SHOW)
    _connect(mapper, inst, base + '/instances/{id}/action', 'action', 'POST')
    _connect(mapper, inst, base + '/instances/{id}/root', 'root', 'GET')
    _connect(mapper, wsgi.Resource(failovers.MgmtFailoverController()), base + '/failovers',
             'index', 'GET')
    _resource(mapper, wsgi.Resource(mgmt.DatastoreVersionController()),
              base + '/datastore-versions', item=ITEM + (('edit', 'PATCH'),))
    _resource(mapper, wsgi.Resource(mgmt.ParameterController()),
              base + '/datastores/versions/{version_id}/parameters',
              item=ITEM + (('update', 'PUT'),))


def _configuration_routes(mapper):
    """Instance update/actions and logs, configuration groups and the parameter catalogue."""
    act = wsgi.Resource(instance_actions.InstanceActionController())
    base = '/{tenant_id}/instances/{id}'
    _connect(mapper, act, base, 'update', 'PUT', _INSTANCE_ID)
    _connect(mapper, act, base, 'edit', 'PATCH', _INSTANCE_ID)
    _connect(mapper, act, base + '/action', 'action', 'POST')
    _connect(mapper, act, base + '/configuration', 'configuration', 'GET')
    log = wsgi.Resource(logs.LogController())
    _connect(mapper, log, base + '/log', 'index', 'GET')
    _connect(mapper, log, base + '/log', 'create', 'POST')
    tls = wsgi.Resource(ssl_api.SSLController())
    _connect(mapper, tls, base + '/ssl', 'index', 'GET')
    _connect(mapper, tls, base + '/ssl', 'create', 'POST')
    cfg = wsgi.Resource(configurations.ConfigurationController())
    base = '/{tenant_id}/configurations'
    _resource(mapper, cfg, base, item=ITEM + (('edit', 'PATCH'), ('update', 'PUT')))
    _connect(mapper, cfg, base + '/{id}/instances', 'instances', 'GET')
    par = wsgi.Resource(parameters.ParameterController())
    base = '/{tenant_id}/datastores'
    _connect(mapper, par, base + '/versions/{version_id}/parameters', 'index_by_version', 'GET')
    _connect(mapper, par, base + '/versions/{version_id}/parameters/{name}',
             'show_by_version', 'GET')
    _connect(mapper, par, base + '/{datastore}/versions/{version_id}/parameters', 'index', 'GET')
    _connect(mapper, par, base + '/{datastore}/versions/{version_id}/parameters/{name}',
             'show', 'GET')


def _backup_routes(mapper):
    res = wsgi.Resource(backups.BackupController())
    _resource(mapper, res, '/{tenant_id}/backups')
    _connect(mapper, res, '/{tenant_id}/instances/{id}/backups', 'instance_index', 'GET')
    _connect(mapper, wsgi.Resource(failovers.FailoverController()),
             '/{tenant_id}/instances/{id}/failovers', 'instance_index', 'GET')
    sched = wsgi.Resource(backup_schedules.BackupScheduleController())
    base = '/{tenant_id}/instances/{id}/backup_schedules'
    _connect(mapper, sched, base, 'index', 'GET')
    _connect(mapper, sched, base, 'create', 'POST')
    _connect(mapper, sched, base + '/{schedule_id}', 'show', 'GET')
    _connect(mapper, sched, base + '/{schedule_id}', 'delete', 'DELETE')
    strat = wsgi.Resource(backup_strategies.BackupStrategyController())
    base = '/{tenant_id}/backup_strategies'
    _connect(mapper, strat, base, 'index', 'GET')
    _connect(mapper, strat, base, 'create', 'POST')
    _connect(mapper, strat, base, 'delete', 'DELETE')


def build_mapper():
    """The mapper of every v1.0 route."""
    mapper = routes.Mapper()
    _connect(mapper, wsgi.Resource(versions.VersionController()), '/', 'show', 'GET')
    _instance_routes(mapper)
    _instance_engine_routes(mapper)
    _configuration_routes(mapper)
    _datastore_routes(mapper)
    _flavor_routes(mapper)
    _mgmt_routes(mapper)
    _backup_routes(mapper)
    return mapper


class APIRouter:
    """The innermost app of the v1.0 pipeline (paste name ``troveapp``)."""

    def __init__(self, mapper=None):
        self.mapper = mapper or build_mapper()
        # Compile now: lazy compilation on the first request is not thread safe.
        self.mapper.create_regs([])

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls()

    def _match(self, path, method):
        environ = {'PATH_INFO': path, 'REQUEST_METHOD': method}
        return self.mapper.routematch(environ=environ)

    @webob.dec.wsgify
    def __call__(self, req):
        path = req.path_info or '/'
        if len(path) > 1:
            # Clients differ on trailing slashes; routes are written without.
            path = path.rstrip('/') or '/'
        found = self._match(path, req.method)
        if found is None:
            allowed = [m for m in _METHODS if m != req.method and self._match(path, m)]
            if allowed:
                return wsgi.fault_response(405, 'The method %s is not allowed for this '
                                                'resource.' % req.method,
                                           headers={'Allow': ', '.join(allowed)})
            return wsgi.fault_response(404, 'The resource could not be found.')
        match, _route = found
        args = {k: v for k, v in match.items() if k not in ('controller', 'action')}
        return match['controller'](req, match['action'], args)
