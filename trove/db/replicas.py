"""Replication topology and credentials.

The topology lives in ``instances.slave_of_id`` (a replica points at its
primary, as upstream).  The replication user of a set is generated once per
primary and kept encrypted with the master key in ``replica_sets``; only the
taskmanager reads it, to hand it to the set's guests over sealed RPC.
"""
import secrets

from oslo_db import exception as db_exc
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from trove.common import rpc_crypto
from trove.db import models
from trove.db.api import new_id
from trove.db.session import reader, writer


# The engines hide this user from the API's user lists (ignore_users).
REPLICATION_USER = 'os_repl'


def list_replicas(primary_id):
    """Live replicas of ``primary_id`` ordered by id."""
    with reader() as session:
        rows = list(session.scalars(select(models.Instance).where(
            models.Instance.slave_of_id == primary_id,
            models.Instance.deleted.is_(False)).order_by(models.Instance.id)))
        for row in rows:
            session.expunge(row)
        return rows


def replica_ids(primary_id):
    return [row.id for row in list_replicas(primary_id)]


def credentials(primary_id):
    """``(user, password)`` of the set of ``primary_id``, created on first use."""
    with reader() as session:
        row = session.scalars(select(models.ReplicaSet).where(
            models.ReplicaSet.primary_id == primary_id)).first()
        if row is not None:
            return row.user, rpc_crypto.master_fernet().decrypt(row.password.encode()).decode()
    user = REPLICATION_USER
    password = secrets.token_urlsafe(24)
    try:
        with writer() as session:
            session.add(models.ReplicaSet(
                id=new_id(), primary_id=primary_id, user=user,
                password=rpc_crypto.master_fernet().encrypt(password.encode()).decode()))
    except (IntegrityError, db_exc.DBDuplicateEntry):
        # oslo.db raises the duplicate row as DBDuplicateEntry.
        return credentials(primary_id)    # a concurrent first use won
    return user, password


def set_primary(old_primary_id, new_primary_id, replica_ids_):
    """After a promotion: the set's credentials and every member follow the new primary."""
    with writer() as session:
        session.execute(update(models.ReplicaSet)
                        .where(models.ReplicaSet.primary_id == old_primary_id)
                        .values(primary_id=new_primary_id))
        session.execute(update(models.Instance)
                        .where(models.Instance.id == new_primary_id)
                        .values(slave_of_id=None, updated=models.utcnow()))
        if replica_ids_:
            session.execute(update(models.Instance)
                            .where(models.Instance.id.in_(list(replica_ids_)))
                            .values(slave_of_id=new_primary_id, updated=models.utcnow()))


def detach(replica_id):
    """The replica becomes a standalone instance."""
    with writer() as session:
        session.execute(update(models.Instance).where(models.Instance.id == replica_id)
                        .values(slave_of_id=None, updated=models.utcnow()))


def forget(primary_id):
    """Drop the credentials of a set whose primary is gone and has no replicas."""
    with writer() as session:
        session.query(models.ReplicaSet).filter(
            models.ReplicaSet.primary_id == primary_id).delete()


# -- high availability --------------------------------------------------------

def set_high_availability(primary_id, enabled, synchronous):
    """Make the set of ``primary_id`` highly available (or not); creates the
    set's record (and its replication user) when it has none yet."""
    credentials(primary_id)
    with writer() as session:
        session.execute(update(models.ReplicaSet)
                        .where(models.ReplicaSet.primary_id == primary_id)
                        .values(failover=bool(enabled), synchronous=bool(synchronous)))


def high_availability(primary_id):
    """``{'enabled': bool, 'synchronous': bool}`` of the set of ``primary_id``."""
    with reader() as session:
        row = session.scalars(select(models.ReplicaSet).where(
            models.ReplicaSet.primary_id == primary_id)).first()
        if row is None:
            return {'enabled': False, 'synchronous': False}
        return {'enabled': bool(row.failover), 'synchronous': bool(row.synchronous)}


def writer_of(primary_id):
    """``(set id, writer address)`` of the set of ``primary_id``; ``(None,
    None)`` without a set, the address None until one was given."""
    with reader() as session:
        row = session.scalars(select(models.ReplicaSet).where(
            models.ReplicaSet.primary_id == primary_id)).first()
        return (row.id, row.writer_address) if row is not None else (None, None)


def writer_address(set_id):
    with reader() as session:
        row = session.get(models.ReplicaSet, set_id)
        return row.writer_address if row is not None else None


def set_writer_address(set_id, address):
    with writer() as session:
        session.execute(update(models.ReplicaSet).where(models.ReplicaSet.id == set_id)
                        .values(writer_address=address))


def highly_available_primaries():
    """Ids of the live primaries of highly available sets."""
    with reader() as session:
        return list(session.scalars(
            select(models.ReplicaSet.primary_id)
            .join(models.Instance, models.Instance.id == models.ReplicaSet.primary_id)
            .where(models.ReplicaSet.failover.is_(True),
                   models.Instance.deleted.is_(False))))


def follow(instance_id, primary_id):
    """``instance_id`` becomes a member (replica) of the set of ``primary_id``."""
    with writer() as session:
        session.execute(update(models.Instance).where(models.Instance.id == instance_id)
                        .values(slave_of_id=primary_id, updated=models.utcnow()))
