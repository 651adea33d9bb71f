"""Shared unit-test fixtures: a migrated SQLite database per test."""
import pytest

from trove.conf import CONF
from trove.db import datastores, migrate, session


@pytest.fixture
def db(tmp_path):
    """A fresh, migrated SQLite database with the mariadb datastore registered."""
    CONF.set_override('connection', 'sqlite:///%s' % (tmp_path / 'trove.sqlite'),
                      group='database')
    session.reset()
    migrate.upgrade()
    datastores.datastore_update('mariadb')
    datastores.version_update('mariadb', '10.11', 'mariadb')
    datastores.datastore_update('mariadb', '10.11')
    yield
    session.reset()
    CONF.clear_override('connection', group='database')


@pytest.fixture
def count_writes(monkeypatch):
    """``count_writes(module)``: a list that gets one item per writer()
    transaction ``module`` opens from then on."""
    def patch(module):
        writes, real = [], session.writer

        def counting():
            writes.append(1)
            return real()
        monkeypatch.setattr(module, 'writer', counting)
        return writes
    return patch
