"""SQL built by the mysql-family admin: bound values, quoted identifiers, filtering."""
import pytest

from trove.common import exception
from trove.guestagent.engines.mysql import admin


class RecordingAdmin(admin.Admin):
    def __init__(self, results=None):
        super().__init__('/nonexistent.sock', lambda: 'adminpw')
        self.calls = []
        self.results = results or {}

    def execute(self, sql, args=None):
        self.calls.append((sql, args))
        for prefix, rows in self.results.items():
            if sql.startswith(prefix):
                return rows
        return ()


def test_create_user_binds_password_and_quotes_db():
    adm = RecordingAdmin()
    adm.create_users([{'name': 'alice', 'password': "p'w", 'databases': [{'name': 'shop'}]}])
    for sql, _args in adm.calls:
        assert "p'w" not in sql  # passwords only ever travel as parameters
    assert ("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", ('alice', '%', "p'w")) \
        in adm.calls
    assert ('GRANT ALL PRIVILEGES ON `shop`.* TO %s@%s', ('alice', '%')) in adm.calls


def test_grant_escapes_underscore_wildcard():
    adm = RecordingAdmin()
    adm.grant('alice', '%', ['my_db'])
    assert adm.calls == [('GRANT ALL PRIVILEGES ON `my\\_db`.* TO %s@%s', ('alice', '%'))]


def test_create_user_rejects_reserved_and_bad_names():
    adm = RecordingAdmin()
    with pytest.raises(exception.BadRequest):
        adm.create_users([{'name': 'os_admin', 'password': 'x'}])
    with pytest.raises(exception.BadRequest):
        adm.create_users([{'name': 'bob', 'password': 'x', 'databases': [{'name': 'a`b'}]}])
    with pytest.raises(exception.BadRequest):
        adm.create_users([{'name': 'bob', 'password': 'x', 'databases': [{'name': 'mysql'}]}])
    with pytest.raises(exception.BadRequest):
        adm.create_users([{'name': 'bob'}])
    assert adm.calls == []


def test_create_database_with_charset():
    adm = RecordingAdmin()
    adm.create_databases([{'name': 'shop', 'character_set': 'utf8mb4',
                           'collate': 'utf8mb4_bin'}])
    assert adm.calls == [('CREATE DATABASE IF NOT EXISTS `shop` CHARACTER SET utf8mb4 '
                          'COLLATE utf8mb4_bin', None)]


def test_lists_hide_internal_users_and_dbs():
    adm = RecordingAdmin({
        'SELECT User, Host FROM mysql.user': [('alice', '%'), ('os_admin', 'localhost'),
                                             ('root', 'localhost'), ('mariadb.sys', 'localhost'),
                                             ('', 'localhost')],
        'SELECT User, Host, Db FROM mysql.db': [('alice', '%', 'shop'),
                                               ('alice', '%', 'mysql'), ('bob', '%', 'x')],
        'SELECT schema_name, ': [('mysql', 'a', 'b'), ('shop', 'utf8mb4', 'c'),
                                 ('information_schema', 'a', 'b')],
    })
    assert adm.list_users() == [{'name': 'alice', 'host': '%', 'databases': [{'name': 'shop'}]}]
    assert adm.list_databases() == [{'name': 'shop', 'character_set': 'utf8mb4',
                                     'collate': 'c'}]


def test_delete_missing_or_internal_objects():
    adm = RecordingAdmin({'SELECT schema_name FROM': [('shop',), ('mysql',)]})
    with pytest.raises(exception.DatabaseNotFound):
        adm.delete_database('nope')
    with pytest.raises(exception.DatabaseNotFound):
        adm.delete_database('mysql')
    adm.delete_database('shop')
    assert adm.calls[-1] == ('DROP DATABASE `shop`', None)
    with pytest.raises(exception.UserNotFound):
        adm.delete_user('root', 'localhost')
    with pytest.raises(exception.UserNotFound):
        adm.delete_user('ghost')
