"""Backup stores, loaded by name from the ``trove.backup.stores`` entry points."""
from trove.common import exception, plugins
from trove.conf import CONF

ENTRY_POINT_GROUP = 'trove.backup.stores'

# Used when the package metadata is not installed (a plain source checkout).
_BUILTIN = {
    'local': 'trove.backup.stores.local:LocalStore',
    'swift': 'trove.backup.stores.swift:SwiftStore',
}


def _load_class(name):
    cls = plugins.load_class(ENTRY_POINT_GROUP, name, _BUILTIN)
    if cls is None:
        raise exception.BadRequest(detail='unknown backup storage driver %r' % name)
    return cls


def get_store(name=None, tenant_id=None):
    """An instance of the store ``name`` (default ``[backup] storage_driver``);
    ``tenant_id`` is the project whose objects it handles, for stores that keep
    each project's apart (Swift with per-project accounts)."""
    cls = _load_class(name or CONF.backup.storage_driver)
    if tenant_id and getattr(cls, 'per_tenant', False):
        return cls(tenant_id=tenant_id)
    return cls()
