"""``root_enabled_history``: who last enabled the superuser of an instance, and when.

One row per instance (the instance id is the key), as upstream keeps it; a
new enable replaces the user and the time.  Disabling keeps the row: it
records that root was enabled at least once, which is what operators audit.
"""
from sqlalchemy import select

from trove.common import exception
from trove.db import models
from trove.db.session import reader, writer


def record(instance_id, user_id):
    """Insert or update the row of ``instance_id``."""
    with writer() as session:
        row = session.get(models.RootEnabledHistory, instance_id)
        if row is None:
            session.add(models.RootEnabledHistory(id=instance_id, user=user_id,
                                                  created=models.utcnow()))
        else:
            row.user = user_id
            row.created = models.utcnow()


def get(instance_id):
    """The row of ``instance_id`` or RootHistoryNotFound."""
    with reader() as session:
        row = session.scalars(select(models.RootEnabledHistory).where(
            models.RootEnabledHistory.id == instance_id)).first()
        if row is None:
            raise exception.RootHistoryNotFound(instance_id=instance_id)
        session.expunge(row)
        return row
