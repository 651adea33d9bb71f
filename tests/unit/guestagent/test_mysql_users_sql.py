"""SQL of the MariaDB user, access and root operations: quoting, binding, checks."""
import pytest

from trove.common import exception
from trove.guestagent.engines.mysql import security

from tests.unit.guestagent.test_mysql_admin import RecordingAdmin

USER_EXISTS = 'SELECT 1 FROM mysql.user WHERE User = %s AND Host = %s'


class Admin(RecordingAdmin):
    """Answers existence queries from a set of (user, host) and database names."""

    def __init__(self, users=(), dbs=(), grants=()):
        super().__init__()
        self.users, self.dbs, self.grants = set(users), set(dbs), set(grants)

    def execute(self, sql, args=None):
        self.calls.append((sql, args))
        if sql == USER_EXISTS:
            return ((1,),) if tuple(args) in self.users else ()
        if sql.startswith('SELECT schema_name FROM'):
            return tuple((d,) for d in self.dbs)
        if sql.startswith('SELECT Db FROM mysql.db') and 'IN' in sql:
            user, host = args[:2]
            return tuple((db,) for u, h, db in self.grants
                         if (u, h) == (user, host) and db in args[2:])
        if sql.startswith('SELECT Db FROM mysql.db'):
            return tuple((db,) for u, h, db in sorted(self.grants) if (u, h) == tuple(args))
        if sql.startswith("SELECT 1 FROM mysql.user WHERE User = 'root'"):
            return ((1,),) if ('root', '%') in self.users else ()
        return ()

    def changes(self):
        return [c for c in self.calls if not c[0].startswith('SELECT')]


def test_get_user_unescapes_grants_and_hides_internal_dbs():
    adm = Admin(users={('bob', '10.0.0.1')},
                grants={('bob', '10.0.0.1', 'my\\_db'), ('bob', '10.0.0.1', 'mysql')})
    assert adm.get_user('bob', '10.0.0.1') == {
        'name': 'bob', 'host': '10.0.0.1', 'databases': [{'name': 'my_db'}]}
    assert (USER_EXISTS, ('bob', '10.0.0.1')) in adm.calls


@pytest.mark.parametrize('name, host, error', [
    ('nobody', '%', exception.UserNotFound),
    ('os_admin', 'localhost', exception.UserNotFound),
    ('root', '%', exception.UserNotFound),
    ("bo'b", '%', exception.BadRequest),
    ('bob', "h'; DROP", exception.BadRequest),
])
def test_get_user_errors(name, host, error):
    adm = Admin(users={('bob', '%'), ('os_admin', 'localhost'), ('root', '%')})
    with pytest.raises(error):
        adm.get_user(name, host)


def test_grant_access_checks_everything_first():
    adm = Admin(users={('bob', '%')}, dbs={'shop', 'my_db'})
    with pytest.raises(exception.DatabaseNotFound):
        adm.grant_access('bob', '%', ['shop', 'nope'])
    with pytest.raises(exception.BadRequest):
        adm.grant_access('bob', '%', ['mysql'])
    with pytest.raises(exception.UserNotFound):
        adm.grant_access('eve', '%', ['shop'])
    assert adm.changes() == []
    adm.grant_access('bob', '%', ['shop', 'my_db'])
    assert adm.changes() == [
        ('GRANT ALL PRIVILEGES ON `shop`.* TO %s@%s', ('bob', '%')),
        ('GRANT ALL PRIVILEGES ON `my\\_db`.* TO %s@%s', ('bob', '%'))]


def test_revoke_access_uses_the_stored_pattern():
    adm = Admin(users={('bob', '%')}, dbs={'my_db'}, grants={('bob', '%', 'my\\_db')})
    adm.revoke_access('bob', '%', 'my_db')
    assert adm.changes() == [('REVOKE ALL PRIVILEGES ON `my\\_db`.* FROM %s@%s',
                              ('bob', '%'))]


def test_revoke_access_not_granted_is_noop_but_unknown_db_is_404():
    adm = Admin(users={('bob', '%')}, dbs={'shop'})
    adm.revoke_access('bob', '%', 'shop')
    assert adm.changes() == []
    with pytest.raises(exception.DatabaseNotFound):
        adm.revoke_access('bob', '%', 'nope')
    with pytest.raises(exception.BadRequest):
        adm.revoke_access('bob', '%', 'a`b')


def test_change_passwords_binds_and_checks_all_first():
    adm = Admin(users={('bob', '%'), ('eve', 'h1')})
    with pytest.raises(exception.UserNotFound):
        adm.change_passwords([{'name': 'bob', 'password': 'x'}, {'name': 'zed', 'password': 'y'}])
    with pytest.raises(exception.BadRequest):
        adm.change_passwords([{'name': 'bob', 'password': ''}])
    assert adm.changes() == []
    adm.change_passwords([{'name': 'bob', 'password': "it's"},
                          {'name': 'eve', 'host': 'h1', 'password': 'p2'}])
    assert adm.changes() == [('ALTER USER %s@%s IDENTIFIED BY %s', ('bob', '%', "it's")),
                             ('ALTER USER %s@%s IDENTIFIED BY %s', ('eve', 'h1', 'p2'))]


def test_update_user_rename_rehost_and_password():
    adm = Admin(users={('bob', '%'), ('eve', '%')})
    adm.update_user('bob', '%', new_name='rob', new_host='10.%', new_password='pw')
    assert adm.changes() == [
        ('RENAME USER %s@%s TO %s@%s', ('bob', '%', 'rob', '10.%')),
        ('ALTER USER %s@%s IDENTIFIED BY %s', ('rob', '10.%', 'pw'))]


@pytest.mark.parametrize('kwargs, error', [
    ({'new_name': 'eve'}, exception.UserAlreadyExists),
    ({'new_name': 'os_admin'}, exception.BadRequest),
    ({'new_name': 'root'}, exception.BadRequest),
    ({'new_host': 'a b'}, exception.BadRequest),
    ({'new_password': ''}, exception.BadRequest),
])
def test_update_user_refusals_change_nothing(kwargs, error):
    adm = Admin(users={('bob', '%'), ('eve', '%')})
    with pytest.raises(error):
        adm.update_user('bob', '%', **kwargs)
    assert adm.changes() == []


def test_password_only_update_does_not_rename():
    adm = Admin(users={('bob', '%')})
    adm.update_user('bob', '%', new_password='pw')
    assert adm.changes() == [('ALTER USER %s@%s IDENTIFIED BY %s', ('bob', '%', 'pw'))]


def test_root_enable_generates_binds_and_disable_drops():
    adm = Admin()
    user = security.enable_root(adm)
    assert user['name'] == 'root' and len(user['password']) == 36
    for sql, _args in adm.calls:
        assert user['password'] not in sql
    assert ("ALTER USER 'root'@'%%' IDENTIFIED BY %s", (user['password'],)) in adm.calls
    assert security.enable_root(adm, 'Given-1')['password'] == 'Given-1'
    with pytest.raises(exception.BadRequest):
        security.enable_root(adm, '')
    adm.calls.clear()
    security.disable_root(adm)
    assert adm.calls == [("DROP USER IF EXISTS 'root'@'%%'", None)]


def test_is_root_enabled_looks_past_socket_root():
    assert security.is_root_enabled(Admin(users={('root', '%')})) is True
    assert security.is_root_enabled(Admin()) is False


def test_create_databases_refuses_internal_schemas_before_creating():
    adm = Admin()
    with pytest.raises(exception.BadRequest):
        adm.create_databases([{'name': 'shop'}, {'name': 'mysql'}])
    assert adm.calls == []
