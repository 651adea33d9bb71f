"""Datastore and datastore-version queries and registration."""
from sqlalchemy import or_, select

from trove.common import exception
from trove.db import models
from trove.db.api import new_id
from trove.db.session import reader, writer


def _detach(session, rows):
    for row in rows:
        session.expunge(row)
    return rows


def list_datastores():
    with reader() as session:
        return _detach(session, list(session.scalars(
            select(models.Datastore).order_by(models.Datastore.name))))


def get_datastore(name_or_id):
    """Find a datastore by id or name, or raise DatastoreNotFound."""
    with reader() as session:
        row = session.scalars(select(models.Datastore).where(or_(
            models.Datastore.id == name_or_id,
            models.Datastore.name == name_or_id))).first()
        if row is None:
            raise exception.DatastoreNotFound(datastore=name_or_id)
        session.expunge(row)
        return row


def delete_datastore(datastore_id):
    """Remove a datastore that has no versions left; False if it had some."""
    with writer() as session:
        has_versions = session.scalars(select(models.DatastoreVersion.id).where(
            models.DatastoreVersion.datastore_id == datastore_id).limit(1)).first()
        if has_versions:
            return False
        row = session.get(models.Datastore, datastore_id)
        if row is not None:
            session.delete(row)
        return True


def list_versions(datastore_id, only_active=True):
    with reader() as session:
        query = select(models.DatastoreVersion).where(
            models.DatastoreVersion.datastore_id == datastore_id)
        if only_active:
            query = query.where(models.DatastoreVersion.active.is_(True))
        return _detach(session, list(session.scalars(
            query.order_by(models.DatastoreVersion.name))))


def get_version(datastore_id, name_or_id):
    """A version of a datastore by id or name, or raise DatastoreVersionNotFound."""
    with reader() as session:
        row = session.scalars(select(models.DatastoreVersion).where(
            models.DatastoreVersion.datastore_id == datastore_id,
            or_(models.DatastoreVersion.id == name_or_id,
                models.DatastoreVersion.name == name_or_id))).first()
        if row is None:
            raise exception.DatastoreVersionNotFound(version=name_or_id)
        session.expunge(row)
        return row


def get_version_by_id(version_id):
    with reader() as session:
        row = session.get(models.DatastoreVersion, version_id)
        if row is None:
            raise exception.DatastoreVersionNotFound(version=version_id)
        session.expunge(row)
        return row


def resolve(datastore=None, version=None):
    """Pick (datastore, version) for a create request, applying the defaults."""
    from trove.conf import CONF
    ds = get_datastore(datastore or CONF.default_datastore)
    if version:
        ver = get_version(ds.id, version)
    elif ds.default_version_id:
        ver = get_version_by_id(ds.default_version_id)
    else:
        raise exception.DatastoreDefaultVersionNotFound(datastore=ds.name)
    if not ver.active:
        raise exception.DatastoreVersionInactive(version=ver.name)
    return ds, ver


def datastore_update(name, default_version=None):
    """Create or update a datastore; an empty default_version clears it."""
    with writer() as session:
        ds = session.scalars(select(models.Datastore).where(
            models.Datastore.name == name)).first()
        if ds is None:
            ds = models.Datastore(id=new_id(), name=name)
            session.add(ds)
        if default_version:
            ver = session.scalars(select(models.DatastoreVersion).where(
                models.DatastoreVersion.datastore_id == ds.id,
                models.DatastoreVersion.name == default_version)).first()
            if ver is None:
                raise exception.DatastoreVersionNotFound(version=default_version)
            ds.default_version_id = ver.id
        elif default_version == '':
            ds.default_version_id = None
        session.flush()
        return ds.id


def version_update(datastore, name, manager, image_id='', packages='', active=True,
                   version=None, image_tags=None, registry_ext='', repl_strategy=''):
    """Create or update a datastore version (``trove-manage datastore_version_update``)."""
    with writer() as session:
        ds = session.scalars(select(models.Datastore).where(
            models.Datastore.name == datastore)).first()
        if ds is None:
            raise exception.DatastoreNotFound(datastore=datastore)
        ver = session.scalars(select(models.DatastoreVersion).where(
            models.DatastoreVersion.datastore_id == ds.id,
            models.DatastoreVersion.name == name)).first()
        if ver is None:
            ver = models.DatastoreVersion(id=new_id(), datastore_id=ds.id, name=name)
            session.add(ver)
        ver.manager = manager
        ver.image_id = image_id or None
        ver.image_tags = image_tags
        ver.packages = packages
        ver.active = bool(active)
        ver.version = version or name
        ver.registry_ext = registry_ext or ''
        ver.repl_strategy = repl_strategy or ''
        session.flush()
        return ver.id
