"""The infrastructure database on a real MariaDB server (not only SQLite).

Runs the alembic migrations into a private database on the local server
(through an account of its own, over TCP with a password),
checks the schema matches the models, and exercises the queries the
services use, including the conditional task claim.
"""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.functional import infra_mariadb
from trove.common import states
from trove.conf import CONF
from trove.db import api, datastores, migrate, models, session

Task = states.InstanceTask


@pytest.fixture
def mariadb_db():
    """A private database and an account that owns it, used over TCP with a
    password the way trove's services use their database."""
    db = infra_mariadb.InfraDatabase()
    CONF.set_override('connection', db.url, group='database')
    session.reset()
    try:
        yield db.name
    finally:
        session.reset()
        CONF.clear_override('connection', group='database')
        db.drop()


def test_migrations_and_queries_on_mariadb(mariadb_db):
    migrate.upgrade()
    assert migrate.current_revision() == migrate.head_revision() != '0001'
    migrate.upgrade()  # idempotent
    with session.get_engine().connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), models.Base.metadata) == []
    datastores.datastore_update('mariadb')
    datastores.version_update('mariadb', '10.11', 'mariadb')
    datastores.datastore_update('mariadb', '10.11')
    assert datastores.resolve()[1].name == '10.11'
    inst = api.create_instance(dict(name='x', tenant_id='t', flavor_id='1'))
    assert api.set_task(inst.id, Task.NONE, expected=Task.BUILDING)
    assert not api.set_task(inst.id, Task.NONE, expected=Task.BUILDING)
    assert api.record_sent(inst.id, 'heartbeat', 1732480000.123456)
    assert not api.record_sent(inst.id, 'heartbeat', 1732480000.123455)
    api.purge_instance(inst.id)
    assert api.list_instances('t') == []



def _first_use(tenant, barrier, errors):
    from trove.common import quota
    from trove.db import quotas
    barrier.wait()
    try:
        quotas.ensure_usages(tenant, quota.RESOURCES)
    except Exception as exc:  # what the API would answer with a 500
        errors.append(exc)


def test_concurrent_first_use_of_a_projects_quota_rows(mariadb_db):
    # Concurrent creates of a new project all make its usage rows: the
    # losers' duplicate rows (or InnoDB deadlocks) must not become 500s.
    import threading

    from trove.common import quota
    from trove.db import quotas
    migrate.upgrade()
    for attempt in range(3):
        tenant, barrier, errors = 'race-%d' % attempt, threading.Barrier(12), []
        threads = [threading.Thread(target=_first_use, args=(tenant, barrier, errors))
                   for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert sorted(quotas.get_usages(tenant)) == sorted(quota.RESOURCES)
