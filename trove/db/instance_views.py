"""The rows instance views need, for a whole page at once.

A list page of N instances is rendered from a constant number of queries
(statuses, faults, running backups, replicas, configuration names, each one
``IN`` query over the page's ids) in one read transaction, instead of
several queries per instance.
"""
from sqlalchemy import select

from trove.common.states import BackupState
from trove.db import models
from trove.db.session import reader


class PageRows:
    """Maps from instance id (or configuration id) to what the views show."""

    def __init__(self):
        self.statuses = {}
        self.faults = {}
        self.backing_up = set()
        self.replicas = {}
        self.config_names = {}


def load(instances, faults=False):
    """:class:`PageRows` of ``instances`` (rows); ``faults`` for detail views."""
    page = PageRows()
    ids = [inst.id for inst in instances]
    if not ids:
        return page
    config_ids = sorted({inst.configuration_id for inst in instances
                         if inst.configuration_id})
    with reader() as session:
        for row in session.scalars(select(models.ServiceStatusRow).where(
                models.ServiceStatusRow.instance_id.in_(ids))):
            page.statuses[row.instance_id] = row
        if faults:
            # Newest last, so each instance keeps its latest live fault.
            for row in session.scalars(select(models.InstanceFault).where(
                    models.InstanceFault.instance_id.in_(ids),
                    models.InstanceFault.deleted.is_(False)).order_by(
                        models.InstanceFault.created)):
                page.faults[row.instance_id] = row
        page.backing_up = set(session.scalars(select(models.Backup.instance_id).where(
            models.Backup.instance_id.in_(ids), models.Backup.deleted.is_(False),
            models.Backup.state.in_(BackupState.RUNNING))))
        for replica_id, primary_id in session.execute(
                select(models.Instance.id, models.Instance.slave_of_id).where(
                    models.Instance.slave_of_id.in_(ids),
                    models.Instance.deleted.is_(False)).order_by(models.Instance.id)):
            page.replicas.setdefault(primary_id, []).append(replica_id)
        if config_ids:
            page.config_names = dict(session.execute(
                select(models.Configuration.id, models.Configuration.name).where(
                    models.Configuration.id.in_(config_ids))).all())
        session.expunge_all()
    return page
