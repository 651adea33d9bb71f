"""Queries of the admin (mgmt) API that span projects or edit the catalogue.

The parameter catalogue itself lives in ``trove.db.configurations``; only
its deletion is here.
"""
from sqlalchemy import delete, func, select, update

from trove.common import exception
from trove.db import models
from trove.db.session import reader, writer


def _detach(session, rows):
    for row in rows:
        session.expunge(row)
    return rows


def list_instances(deleted=None, limit=None, marker=None):
    """Instances of every project ordered by id; ``deleted`` None means both."""
    inst = models.Instance
    with reader() as session:
        query = select(inst)
        if deleted is not None:
            query = query.where(inst.deleted.is_(bool(deleted)))
        if marker:
            query = query.where(inst.id > marker)
        query = query.order_by(inst.id)
        if limit:
            query = query.limit(limit)
        return _detach(session, list(session.scalars(query)))


def list_versions():
    """Every datastore version with its datastore, active or not."""
    with reader() as session:
        rows = session.execute(
            select(models.DatastoreVersion, models.Datastore)
            .join(models.Datastore,
                  models.Datastore.id == models.DatastoreVersion.datastore_id)
            .order_by(models.Datastore.name, models.DatastoreVersion.name)).all()
        # One datastore row comes back once per version; expunging it per
        # row fails on the second, so detach everything at once.
        session.expunge_all()
        return [(version, ds) for version, ds in rows]


def edit_version(version_id, **values):
    """Set columns of a datastore version (None values are left alone)."""
    values = {k: v for k, v in values.items() if v is not None}
    if not values:
        return
    with writer() as session:
        session.execute(update(models.DatastoreVersion)
                        .where(models.DatastoreVersion.id == version_id).values(**values))


_USERS = (models.Instance, models.Configuration, models.Backup)


def _live_users(session, version_id):
    """How many live instances, configurations and backups use a version."""
    return sum(session.scalar(select(func.count()).select_from(model).where(
        model.datastore_version_id == version_id, model.deleted.is_(False))) or 0
        for model in _USERS)


def _forget_deleted_users(session, version_id):
    """Let deleted rows stop referring to a version about to disappear.

    Deleted instances and backups keep their history without a version
    (their views show none); deleted configuration groups cannot be shown
    again at all, so they go with their values.
    """
    for model in (models.Instance, models.Backup):
        session.execute(update(model).where(
            model.datastore_version_id == version_id, model.deleted.is_(True))
            .values(datastore_version_id=None))
    cfg = models.Configuration
    dead = select(cfg.id).where(cfg.datastore_version_id == version_id,
                                cfg.deleted.is_(True))
    session.execute(delete(models.ConfigurationParameter).where(
        models.ConfigurationParameter.configuration_id.in_(dead)))
    session.execute(delete(cfg).where(cfg.datastore_version_id == version_id,
                                      cfg.deleted.is_(True)))


def delete_version(version_id):
    """Remove a datastore version, its catalogue and metadata; clear it as a default.

    Raises Conflict when live instances, configurations or backups still
    use it (checked in the deleting transaction, so none can slip in).
    """
    with writer() as session:
        version = session.get(models.DatastoreVersion, version_id)
        if version is None:
            raise exception.DatastoreVersionNotFound(version=version_id)
        users = _live_users(session, version_id)
        if users:
            raise exception.Conflict(
                detail='datastore version %s is used by %d live instances, '
                       'configurations or backups.' % (version_id, users))
        _forget_deleted_users(session, version_id)
        for model in (models.DatastoreConfigurationParameter,
                      models.DatastoreVersionMetadata):
            session.query(model).filter(
                model.datastore_version_id == version_id).delete()
        session.execute(update(models.Datastore)
                        .where(models.Datastore.default_version_id == version_id)
                        .values(default_version_id=None))
        session.delete(version)


def delete_parameter(version_id, name):
    """Soft-delete one catalogue entry; False when there was none."""
    param = models.DatastoreConfigurationParameter
    with writer() as session:
        result = session.execute(
            update(param).where(param.datastore_version_id == version_id,
                                param.name == name, param.deleted.is_(False))
            .values(deleted=True, deleted_at=models.utcnow()))
        return result.rowcount == 1
