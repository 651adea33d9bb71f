"""Views of datastores and their versions."""
from trove.api import links


def _version_links(req, tenant_id, version):
    return links.create_links(req, tenant_id, 'datastores/versions', version.id)


def version_summary(req, tenant_id, version):
    """A version as listed inside its datastore."""
    view = {'id': version.id, 'name': version.name,
            'links': _version_links(req, tenant_id, version),
            'active': bool(version.active)}
    if version.version:
        view['version'] = version.version
    return view


def version_view(req, tenant_id, version, is_admin=False):
    """A version on its own (``{"version": ...}``); admins also see how it is built."""
    view = version_summary(req, tenant_id, version)
    view['datastore'] = version.datastore_id
    if is_admin:
        # No "manager" key: troveclient's Resource would take it for its own
        # ``manager`` attribute and break (upstream shows it only under /mgmt).
        view.update(image=version.image_id,
                    image_tags=(version.image_tags or '').split(',')
                    if version.image_tags else [],
                    packages=version.packages, registry_ext=version.registry_ext,
                    repl_strategy=version.repl_strategy)
    return view


def datastore_view(req, tenant_id, datastore, versions):
    """A datastore with the versions the caller may see."""
    view = {'id': datastore.id, 'name': datastore.name,
            'links': links.create_links(req, tenant_id, 'datastores', datastore.id),
            'versions': [version_summary(req, tenant_id, v) for v in versions]}
    if datastore.default_version_id:
        view['default_version'] = datastore.default_version_id
    return view
