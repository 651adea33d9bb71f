"""Datastores and datastore versions (registration is trove-manage's and the
mgmt API's; an admin may delete a datastore whose versions are gone)."""
from trove.api import middleware, wsgi
from trove.api.views import datastores as views
from trove.common import exception, policy
from trove.db import datastores as db


class DatastoreController:
    """``/datastores[...]``; admins also see inactive versions."""

    def _versions(self, context, datastore_id):
        return db.list_versions(datastore_id, only_active=not context.is_admin)

    def index(self, req, tenant_id):
        context = middleware.get_context(req)
        policy.authorize(context, 'datastore:index')
        return {'datastores': [
            views.datastore_view(req, tenant_id, ds, self._versions(context, ds.id))
            for ds in db.list_datastores()]}

    def show(self, req, tenant_id, id):
        context = middleware.get_context(req)
        policy.authorize(context, 'datastore:show')
        ds = db.get_datastore(id)
        return {'datastore': views.datastore_view(req, tenant_id, ds,
                                                  self._versions(context, ds.id))}

    def delete(self, req, tenant_id, id):
        """Delete a datastore without versions (delete them first: mgmt API)."""
        context = middleware.get_context(req)
        policy.authorize(context, 'datastore:delete')
        ds = db.get_datastore(id)
        if not db.delete_datastore(ds.id):
            raise exception.BadRequest(
                'Datastore versions exist for datastore %s; delete them first.' % ds.name)
        return wsgi.Result(status=202)

    def version_index(self, req, tenant_id, datastore):
        context = middleware.get_context(req)
        policy.authorize(context, 'datastore:version_index')
        ds = db.get_datastore(datastore)
        return {'versions': [views.version_view(req, tenant_id, v, context.is_admin)
                             for v in self._versions(context, ds.id)]}

    def _visible_version(self, context, version):
        # Inactive versions are an operator's business; to users they do not exist.
        if not version.active and not context.is_admin:
            raise exception.DatastoreVersionNotFound(version=version.id)
        return version

    def version_show(self, req, tenant_id, datastore, id):
        context = middleware.get_context(req)
        policy.authorize(context, 'datastore:version_show')
        ds = db.get_datastore(datastore)
        version = self._visible_version(context, db.get_version(ds.id, id))
        return {'version': views.version_view(req, tenant_id, version, context.is_admin)}

    def version_show_by_uuid(self, req, tenant_id, uuid):
        context = middleware.get_context(req)
        policy.authorize(context, 'datastore:version_show_by_uuid')
        version = self._visible_version(context, db.get_version_by_id(uuid))
        return {'version': views.version_view(req, tenant_id, version, context.is_admin)}
