"""SQL administration of MariaDB over the private unix socket.

Only statement templates are ever logged; values (names, passwords) travel
as bound parameters, and identifiers are validated and backtick-quoted.
"""
import contextlib
import getpass

import pymysql
from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines.mysql import names

LOG = logging.getLogger(__name__)
# Server answered but refused the login: it is up.
ACCESS_DENIED = (1044, 1045, 1698)
ER_NO_SUCH_USER = 1133


def connect(socket_path, user, password=None, timeout=5):
    """A PyMySQL connection over the socket (autocommit).

    The agent's own statements stay out of the general log (sql_log_off):
    a user who enables that log wants their queries, not a health check per
    heartbeat or the agent's user and password statements.  Both users the
    agent connects as have the privilege to set it.

    TLS is off: the socket never leaves the guest, and PyMySQL (1.2 and
    later) otherwise builds a default SSL context, loading the system's CA
    bundle, for every connection (~17 ms of CPU, a third of the agent's CPU
    during a build) and negotiates TLS once the server has a certificate.
    """
    return pymysql.connect(unix_socket=socket_path, user=user, password=password or '',
                           connect_timeout=timeout, autocommit=True, charset='utf8mb4',
                           init_command='SET SESSION sql_log_off = 1', ssl_disabled=True)


def bootstrap_user():
    """The OS user of the agent: mariadb-install-db lets it in via unix_socket."""
    return getpass.getuser()


class Admin:
    """Runs administrative SQL as the internal admin user."""

    def __init__(self, socket_path, secret_reader):
        self.socket_path = socket_path
        self._secret = secret_reader  # callable returning the admin password

    @contextlib.contextmanager
    def cursor(self):
        conn = connect(self.socket_path, CONF.mariadb.root_controller_user, self._secret())
        try:
            with conn.cursor() as cur:
                yield cur
        finally:
            conn.close()

    def execute(self, sql, args=None):
        """Run one statement; return all rows.

        ``sql`` is always a %-format template (``%%`` for a literal percent),
        also without ``args``, so every statement follows one rule.
        """
        LOG.debug('SQL: %s', sql)  # the template only; never ``args``
        with self.cursor() as cur:
            cur.execute(sql, args if args is not None else ())
            return cur.fetchall()

    # -- databases -----------------------------------------------------
    def create_databases(self, databases):
        # Internal schemas are hidden from lists, so "creating" one would
        # silently succeed; refuse them up front, before creating anything.
        for db in databases:
            if names.database_name(db.get('name')) in CONF.mariadb.ignore_dbs:
                raise exception.BadRequest(detail='database %r is reserved' % db['name'])
        for db in databases:
            name = names.database_name(db.get('name'))
            sql = 'CREATE DATABASE IF NOT EXISTS %s' % names.quote_ident(name)
            cs = names.charset('Character set', db.get('character_set'))
            coll = names.charset('Collation', db.get('collate'))
            if cs:
                sql += ' CHARACTER SET %s' % cs
            if coll:
                sql += ' COLLATE %s' % coll
            self.execute(sql)

    def delete_database(self, name):
        names.database_name(name)
        if name in CONF.mariadb.ignore_dbs or name not in self._db_names():
            raise exception.DatabaseNotFound(name=name)
        self.execute('DROP DATABASE %s' % names.quote_ident(name))

    def _db_names(self):
        rows = self.execute('SELECT schema_name FROM information_schema.schemata')
        return {r[0] for r in rows}

    def list_databases(self):
        rows = self.execute('SELECT schema_name, default_character_set_name, '
                            'default_collation_name FROM information_schema.schemata '
                            'ORDER BY schema_name')
        return [{'name': n, 'character_set': cs, 'collate': coll}
                for n, cs, coll in rows if n not in CONF.mariadb.ignore_dbs]

    # -- users ---------------------------------------------------------
    def _hidden_users(self):
        return set(CONF.mariadb.ignore_users) | {CONF.mariadb.root_controller_user, ''}

    def _checked_user(self, user):
        """(name, host, password, dbs) of a user request, or BadRequest."""
        name = names.user_name(user.get('name'))
        host = names.host(user.get('host'))
        if name in self._hidden_users():
            raise exception.BadRequest(detail='user name %r is reserved' % name)
        password = user.get('password')
        if not isinstance(password, str) or not password:
            raise exception.BadRequest(detail='user %s needs a password' % name)
        dbs = [names.database_name(d.get('name')) for d in user.get('databases') or []]
        reserved = [db for db in dbs if db in CONF.mariadb.ignore_dbs]
        if reserved:
            raise exception.BadRequest(detail='database %r is reserved' % reserved[0])
        return name, host, password, dbs

    def create_users(self, users):
        # Check every entry first so a bad one leaves nothing half-created.
        checked = [self._checked_user(u) for u in users]
        for name, host, password, dbs in checked:
            self.execute('CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s',
                         (name, host, password))
            # Also set the password when the user already existed, so a
            # repeated prepare converges on the requested state.
            self.execute('ALTER USER %s@%s IDENTIFIED BY %s', (name, host, password))
            self.grant(name, host, dbs)

    def grant(self, name, host, databases):
        """Give ``name@host`` all privileges on each (validated) database."""
        for db in databases:
            # '_' is a wildcard in grant database names: escape it so a grant
            # on my_db does not also cover myXdb.
            pattern = names.quote_ident(db.replace('_', '\\_'))
            self.execute('GRANT ALL PRIVILEGES ON %s.* TO %%s@%%s' % pattern, (name, host))

    def delete_user(self, name, host='%'):
        names.user_name(name)
        host = names.host(host)
        if name in self._hidden_users():
            raise exception.UserNotFound(name=name)
        rows = self.execute('SELECT 1 FROM mysql.user WHERE User = %s AND Host = %s',
                            (name, host))
        if not rows:
            raise exception.UserNotFound(name='%s@%s' % (name, host))
        self.execute('DROP USER %s@%s', (name, host))

    def list_users(self):
        hidden = self._hidden_users()
        rows = self.execute("SELECT User, Host FROM mysql.user WHERE is_role = 'N' "
                            'ORDER BY User, Host')
        grants = self.execute('SELECT User, Host, Db FROM mysql.db ORDER BY Db')
        users = []
        for name, host in rows:
            if name in hidden:
                continue
            dbs = [{'name': db.replace('\\_', '_')} for u, h, db in grants
                   if u == name and h == host and db not in CONF.mariadb.ignore_dbs]
            users.append({'name': name, 'host': host, 'databases': dbs})
        return users

    # -- one user, its grants and its attributes -------------------------
    def _existing_user(self, name, host):
        """Validated (name, host) of an existing visible user, else UserNotFound."""
        names.user_name(name)
        host = names.host(host)
        if name in self._hidden_users() or not self.execute(
                'SELECT 1 FROM mysql.user WHERE User = %s AND Host = %s', (name, host)):
            raise exception.UserNotFound(name='%s@%s' % (name, host))
        return name, host

    def _user_dbs(self, name, host):
        rows = self.execute('SELECT Db FROM mysql.db WHERE User = %s AND Host = %s '
                            'ORDER BY Db', (name, host))
        dbs = (row[0].replace('\\_', '_') for row in rows)
        return [{'name': db} for db in dbs if db not in CONF.mariadb.ignore_dbs]

    def get_user(self, name, host='%'):
        name, host = self._existing_user(name, host)
        return {'name': name, 'host': host, 'databases': self._user_dbs(name, host)}

    def list_access(self, name, host='%'):
        return self.get_user(name, host)['databases']

    def _visible_db(self, name):
        """A validated database name that exists and is not internal."""
        names.database_name(name)
        if name in CONF.mariadb.ignore_dbs:
            raise exception.BadRequest(detail='database %r is reserved' % name)
        if name not in self._db_names():
            raise exception.DatabaseNotFound(name=name)
        return name

    def grant_access(self, name, host, databases):
        name, host = self._existing_user(name, host)
        # Check every database before granting any, so nothing is half done.
        dbs = [self._visible_db(db) for db in databases]
        self.grant(name, host, dbs)

    def revoke_access(self, name, host, database):
        name, host = self._existing_user(name, host)
        names.database_name(database)
        escaped = database.replace('_', '\\_')
        granted = {row[0] for row in self.execute(
            'SELECT Db FROM mysql.db WHERE User = %s AND Host = %s AND Db IN (%s, %s)',
            (name, host, database, escaped))}
        if not granted:
            # Revoking access that was never given is a no-op, unless the
            # database does not exist at all: then the caller named it wrong.
            self._visible_db(database)
            return
        for pattern in sorted(granted):
            self.execute('REVOKE ALL PRIVILEGES ON %s.* FROM %%s@%%s'
                         % names.quote_ident(pattern), (name, host))

    def change_passwords(self, users):
        checked = []
        for user in users:
            name, host = self._existing_user(user.get('name'), user.get('host'))
            checked.append((name, host, _password(user.get('password'), name)))
        for name, host, password in checked:
            self.execute('ALTER USER %s@%s IDENTIFIED BY %s', (name, host, password))

    def update_user(self, name, host, new_name=None, new_host=None, new_password=None):
        """Rename and/or re-host ``name@host`` and optionally set its password."""
        name, host = self._existing_user(name, host)
        target_name = names.user_name(new_name) if new_name else name
        target_host = names.host(new_host) if new_host else host
        if new_password is not None:
            _password(new_password, target_name)
        if target_name in self._hidden_users():
            raise exception.BadRequest(detail='user name %r is reserved' % target_name)
        if (target_name, target_host) != (name, host):
            if self.execute('SELECT 1 FROM mysql.user WHERE User = %s AND Host = %s',
                            (target_name, target_host)):
                raise exception.UserAlreadyExists(name='%s@%s' % (target_name, target_host))
            self.execute('RENAME USER %s@%s TO %s@%s', (name, host, target_name, target_host))
        if new_password is not None:
            self.execute('ALTER USER %s@%s IDENTIFIED BY %s',
                         (target_name, target_host, new_password))


def _password(value, name):
    if not isinstance(value, str) or not value:
        raise exception.BadRequest(detail='user %s needs a password' % name)
    return value
