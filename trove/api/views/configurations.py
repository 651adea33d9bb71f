"""Views of configuration groups and of the parameter catalogue."""
from trove.api import links
from trove.db import configurations as cfg_db


class GroupInfo:
    """A group row with its datastore rows, loaded by the controller."""

    def __init__(self, row, datastore, version):
        self.row = row
        self.datastore = datastore
        self.version = version


def summary_view(info):
    """A group as listed by ``GET /configurations``."""
    row, version = info.row, info.version
    return {
        'id': row.id,
        'name': row.name,
        'description': row.description,
        'created': links.isotime(row.created),
        'updated': links.isotime(row.updated),
        'datastore_name': info.datastore.name if info.datastore else None,
        'datastore_version_id': row.datastore_version_id,
        'datastore_version_name': version.name if version else None,
        'datastore_version_number': (version.version or version.name) if version else None,
    }


def detail_view(info, values, instance_count):
    """A group with its values, as shown and created."""
    view = summary_view(info)
    view['values'] = values
    view['instance_count'] = instance_count
    return view


def instances_view(req, tenant_id, rows):
    return {'instances': [{'id': r.id, 'name': r.name,
                           'links': links.create_links(req, tenant_id, 'instances', r.id)}
                          for r in rows]}


def parameter_view(param):
    """One catalogue entry in upstream's ``configuration-parameters`` shape."""
    view = {'name': param.name, 'datastore_version_id': param.datastore_version_id,
            'restart_required': bool(param.restart_required), 'type': param.data_type}
    for key, text in (('min', param.min_size), ('max', param.max_size)):
        if text is not None:
            view[key] = cfg_db.parse_bound(text)
    return view
