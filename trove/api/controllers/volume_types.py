"""Volume types: a read-only proxy of the compute driver's block-storage types.

``/volume-types`` lists what the cloud offers (Cinder on the nova driver;
the local driver has no typed volumes, so none).  The per-version list,
``/datastores/{ds}/versions/{vid}/volume-types``, answers every type: no
version is restricted to some types yet, which is upstream's meaning of a
version without volume-type associations.
"""
from trove.api import middleware
from trove.api.controllers import flavors
from trove.common import exception, policy


def _types():
    return flavors.get_compute().list_volume_types()


def type_view(volume_type):
    """The shape python-troveclient reads: id, name, description, is_public."""
    return {'id': volume_type['id'], 'name': volume_type['name'],
            'description': volume_type.get('description'),
            'is_public': bool(volume_type.get('is_public', True))}


class VolumeTypeController:
    """``/volume-types`` and ``/datastores/{ds}/versions/{vid}/volume-types``."""

    def index(self, req, tenant_id):
        policy.authorize(middleware.get_context(req), 'volume_type:index')
        return {'volume_types': [type_view(t) for t in _types()]}

    def show(self, req, tenant_id, id):
        """One type by id or by name (troveclient resolves names with either)."""
        policy.authorize(middleware.get_context(req), 'volume_type:show')
        for volume_type in _types():
            if id in (volume_type['id'], volume_type['name']):
                return {'volume_type': type_view(volume_type)}
        raise exception.VolumeTypeNotFound(volume_type=id)

    def index_for_version(self, req, tenant_id, datastore, version_id):
        from trove.db import datastores
        policy.authorize(middleware.get_context(req),
                         'datastore:list_associated_volume_types')
        ds = datastores.get_datastore(datastore)
        datastores.get_version(ds.id, version_id)
        return {'volume_types': [type_view(t) for t in _types()]}
