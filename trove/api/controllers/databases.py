"""Databases of an instance: ``/{tenant}/instances/{instance_id}/databases``.

The guest does the work with a synchronous call (see guestagent/rpcapi.py),
so a 202 means the database exists (or is gone) by the time the client
reads it, and a bad or taken name is reported to the client.
"""
from oslo_log import log as logging

from trove.api import wsgi
from trove.api.controllers import guest_access
from trove.api.schemas import databases as schemas
from trove.api.views import databases as views
from trove.common import exception
from trove.conf import CONF

LOG = logging.getLogger(__name__)


def _unique(names, what):
    seen = set()
    for name in names:
        if name in seen:
            raise exception.BadRequest(detail='%s %s is listed twice.' % (what, name))
        seen.add(name)


class DatabaseController:
    """``/{tenant}/instances/{instance_id}/databases[/{id}]``."""

    schemas = {'create': schemas.create}

    def index(self, req, tenant_id, instance_id):
        return guest_access.guest_page(req, instance_id, 'instance:extension:database:index',
                                       'databases', CONF.databases_page_size,
                                       views.databases_view)

    def create(self, req, tenant_id, instance_id, body):
        context, _inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:database:create')
        dbs = [{k: item[k] for k in ('name', 'character_set', 'collate') if item.get(k)}
               for item in body['databases']]
        _unique([db['name'] for db in dbs], 'Database')
        guest.create_database(databases=dbs)
        LOG.info('Databases %s created on instance %s',
                 ', '.join(db['name'] for db in dbs), instance_id)
        return wsgi.Result(status=202)

    def show(self, req, tenant_id, instance_id, id):
        _context, _inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:database:show')
        # A one-item page starting at the name finds it without listing all.
        dbs, _next = guest.list_databases(limit=1, marker=id, include_marker=True)
        if not dbs or dbs[0]['name'] != id:
            raise exception.DatabaseNotFound(name=id)
        return {'database': views.database_view(dbs[0])}

    def delete(self, req, tenant_id, instance_id, id):
        _context, _inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:database:delete')
        guest.delete_database(database={'name': id})
        LOG.info('Database %s deleted on instance %s', id, instance_id)
        return wsgi.Result(status=202)
