"""The infrastructure database on a real MariaDB server (not only SQLite).

Runs the alembic migrations into a private database on the local server,
checks the schema matches the models, and exercises the queries the
services use, including the conditional task claim.
"""
import uuid

import pymysql
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from trove.common import states
from trove.conf import CONF
from trove.db import api, datastores, migrate, models, session

Task = states.InstanceTask


@pytest.fixture
def mariadb_db():
    name = 'trove_ft_%s' % uuid.uuid4().hex[:8]
    try:
        admin = pymysql.connect(host='127.0.0.1', port=3306, user='root', connect_timeout=5)
    except pymysql.err.OperationalError as exc:
        pytest.fail('MariaDB server on 127.0.0.1:3306 is needed: %s' % exc)
    with admin.cursor() as cur:
        cur.execute('CREATE DATABASE `%s`' % name)
    CONF.set_override('connection', 'mysql+pymysql://root@127.0.0.1:3306/%s' % name,
                      group='database')
    session.reset()
    try:
        yield name
    finally:
        session.reset()
        CONF.clear_override('connection', group='database')
        with admin.cursor() as cur:
            cur.execute('DROP DATABASE `%s`' % name)
        admin.close()


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
