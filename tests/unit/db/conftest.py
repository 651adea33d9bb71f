"""Shared fixtures of the database tests."""
import pytest

from trove.common import quota, states
from trove.db import api


@pytest.fixture
def inst(db):
    """An instance of project t1 (1 GB RAM, 1 GB volume charged), task NONE."""
    row = quota.run_with_quotas('t1', quota.instance_deltas(+1, 1024, 1),
                                lambda: api.create_instance(dict(
                                    name='db1', tenant_id='t1', flavor_id='2',
                                    volume_size=1)))
    api.set_task(row.id, states.InstanceTask.NONE)
    return row.id
