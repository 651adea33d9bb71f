"""The configuration parameter catalogue of a datastore version (read only).

``/{t}/datastores/{ds}/versions/{vid}/parameters[/{name}]`` and the same
under ``/{t}/datastores/versions/{vid}`` (version by id only).
"""
from trove.api import middleware
from trove.api.views import configurations as views
from trove.common import policy
from trove.db import configurations as cfg_db
from trove.db import datastores


class ParameterController:
    """Lists and shows catalogue entries."""

    @staticmethod
    def _version(datastore, version_id):
        if datastore is None:
            return datastores.get_version_by_id(version_id)
        return datastores.get_version(datastores.get_datastore(datastore).id, version_id)

    def index(self, req, tenant_id, version_id, datastore=None):
        policy.authorize(middleware.get_context(req), 'configuration-parameter:index'
                         if datastore else 'configuration-parameter:index_by_version')
        version = self._version(datastore, version_id)
        return {'configuration-parameters': [
            views.parameter_view(p) for p in cfg_db.list_parameters(version.id)]}

    def show(self, req, tenant_id, version_id, name, datastore=None):
        policy.authorize(middleware.get_context(req), 'configuration-parameter:show'
                         if datastore else 'configuration-parameter:show_by_version')
        version = self._version(datastore, version_id)
        return views.parameter_view(cfg_db.get_parameter(version.id, name))

    def index_by_version(self, req, tenant_id, version_id):
        return self.index(req, tenant_id, version_id)

    def show_by_version(self, req, tenant_id, version_id, name):
        return self.show(req, tenant_id, version_id, name)
