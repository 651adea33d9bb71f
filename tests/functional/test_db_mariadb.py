"""The infrastructure database on a real MariaDB server (not only SQLite).

Runs the alembic migrations into a private database on the local server
(through an account of its own, over TCP with a password),
checks the schema matches the models, and exercises the queries the
services use, including the conditional task claim.
"""
import os
import secrets
import uuid

import pymysql
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from trove.common import states
from trove.conf import CONF
from trove.db import api, datastores, migrate, models, session

Task = states.InstanceTask


# The server's administrator: root over the local socket works on a stock
# Debian server (unix_socket authentication for the OS root) and on one whose
# root has an empty password; root over TCP only on the latter.
SOCKET = os.environ.get('TROVE_MARIADB_SOCKET', '/run/mysqld/mysqld.sock')
PORT = int(os.environ.get('TROVE_MARIADB_PORT', '3306'))
# With skip-name-resolve a TCP client from 127.0.0.1 matches only '127.0.0.1',
# without it 'localhost': the test account gets both.
HOSTS = ('127.0.0.1', 'localhost')


def _admin():
    errors = []
    for kwargs in (dict(unix_socket=SOCKET), dict(host='127.0.0.1', port=PORT)):
        try:
            return pymysql.connect(user='root', connect_timeout=5, autocommit=True, **kwargs)
        except pymysql.err.OperationalError as exc:
            errors.append('%s: %s' % (kwargs, exc))
    pytest.fail('MariaDB server on 127.0.0.1:%d is needed (bin/run-tests starts it); '
                'root could not log in: %s' % (PORT, '; '.join(errors)))


@pytest.fixture
def mariadb_db():
    """A private database and an account that owns it, used over TCP with a
    password the way trove's services use their database."""
    name = 'trove_ft_%s' % uuid.uuid4().hex[:8]
    password = secrets.token_urlsafe(18)
    admin = _admin()
    with admin.cursor() as cur:
        cur.execute('CREATE DATABASE `%s`' % name)
        for host in HOSTS:
            cur.execute('CREATE USER %s@%s IDENTIFIED BY %s', (name, host, password))
            cur.execute('GRANT ALL PRIVILEGES ON `%s`.* TO %%s@%%s' % name, (name, host))
    CONF.set_override('connection', 'mysql+pymysql://%s:%s@127.0.0.1:%d/%s'
                      % (name, password, PORT, name), group='database')
    session.reset()
    try:
        yield name
    finally:
        session.reset()
        CONF.clear_override('connection', group='database')
        with admin.cursor() as cur:
            for host in HOSTS:
                cur.execute('DROP USER IF EXISTS %s@%s', (name, host))
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
