"""Views of backups and backup strategies (upstream's shapes)."""
from trove.api import links
from trove.backup.stores import local as local_store


def _size_gb(size_bytes):
    # The column holds GB as upstream does (a float), rounded for display.
    return round(size_bytes, 6) if size_bytes is not None else None


def _location_ref(row):
    if row.location and row.storage_driver == 'local':
        return local_store.public_location(row.location)
    return row.location


def backup_view(row, datastore=None, version=None):
    """``{"id", "name", ..., "datastore": {type, version, version_id}}``."""
    return {
        'id': row.id,
        'name': row.name,
        'description': row.description,
        'locationRef': _location_ref(row),
        'instance_id': row.instance_id,
        'created': links.isotime(row.created),
        'updated': links.isotime(row.updated),
        'size': _size_gb(row.size),
        'status': row.state,
        'parent_id': row.parent_id,
        'project_id': row.tenant_id,
        'datastore': {'type': datastore.name if datastore else None,
                      'version': version.name if version else None,
                      'version_id': version.id if version else None},
        'storage_driver': row.storage_driver,
    }


def strategy_view(row):
    return {'project_id': row.tenant_id, 'instance_id': row.instance_id,
            'backend': row.backend, 'swift_container': row.swift_container}
