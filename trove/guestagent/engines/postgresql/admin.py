"""SQL administration of PostgreSQL over the private unix socket.

The agent logs in as the internal superuser by peer authentication, so no
admin password exists at all.  Identifiers are validated and quoted with
psycopg.sql; passwords travel only as SCRAM verifiers; only statement
templates are logged.
"""
import contextlib

import psycopg
from oslo_log import log as logging
from psycopg import sql

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines.postgresql import names, scram

LOG = logging.getLogger(__name__)
MAINTENANCE_DB = 'postgres'


def connect(paths, dbname=MAINTENANCE_DB, timeout=5):
    """An autocommit connection as the internal admin over the socket.

    ``log_statement = none`` for the agent's session: with the ``general``
    guest log on, the user's log shows their statements, not the agent's
    health checks and role changes (the admin is a superuser, who may set it).
    """
    return psycopg.connect(host=paths.run_dir, port=CONF.postgresql.port,
                           user=CONF.postgresql.root_controller_user, dbname=dbname,
                           connect_timeout=timeout, autocommit=True,
                           options='-c log_statement=none')


class Admin:
    """Databases, roles and grants of one cluster."""

    def __init__(self, paths):
        self.paths = paths

    @contextlib.contextmanager
    def cursor(self, dbname=MAINTENANCE_DB):
        with connect(self.paths, dbname) as conn, conn.cursor() as cur:
            yield cur

    def execute(self, query, args=None, dbname=MAINTENANCE_DB):
        """Run one statement; return its rows ([] when it returns none)."""
        LOG.debug('SQL: %s', query if isinstance(query, str) else '<composed>')
        with self.cursor(dbname) as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else []

    # -- databases -----------------------------------------------------
    def db_names(self):
        return {r[0] for r in self.execute(
            'SELECT datname FROM pg_database WHERE NOT datistemplate')}

    def existing_db(self, name):
        """``name`` validated and existing as a user-visible database."""
        names.database_name(name)
        if name in CONF.postgresql.ignore_dbs or name not in self.db_names():
            raise exception.DatabaseNotFound(name=name)
        return name

    def create_databases(self, databases):
        checked = []
        for db in databases:
            name = names.database_name(db.get('name'))
            if name in CONF.postgresql.ignore_dbs:
                raise exception.BadRequest(detail='database %r is reserved' % name)
            checked.append((name, names.locale('Character set', db.get('character_set')),
                            names.locale('Collation', db.get('collate'))))
        existing = self.db_names()
        for name, encoding, collate in checked:
            if name in existing:
                continue
            query = sql.SQL('CREATE DATABASE {} TEMPLATE template0').format(
                sql.Identifier(name))
            if encoding:
                query += sql.SQL(' ENCODING {}').format(sql.Literal(encoding))
            if collate:
                query += sql.SQL(' LC_COLLATE {0} LC_CTYPE {0}').format(sql.Literal(collate))
            self.execute(query)
            # Only users granted access may connect (PUBLIC may by default).
            self.execute(sql.SQL('REVOKE ALL ON DATABASE {} FROM PUBLIC').format(
                sql.Identifier(name)))

    def delete_database(self, name):
        self.existing_db(name)
        self.execute(sql.SQL('DROP DATABASE {} WITH (FORCE)').format(sql.Identifier(name)))

    def list_databases(self):
        rows = self.execute('SELECT datname, pg_encoding_to_char(encoding), datcollate '
                            'FROM pg_database WHERE NOT datistemplate ORDER BY datname')
        return [{'name': n, 'character_set': cs, 'collate': coll}
                for n, cs, coll in rows if n not in CONF.postgresql.ignore_dbs]

    # -- users -----------------------------------------------------------
    def _hidden(self, name):
        return (name in CONF.postgresql.ignore_users or name.startswith('pg_') or
                name in (CONF.postgresql.root_controller_user, CONF.postgresql.root_user))

    def role_exists(self, name):
        return bool(self.execute('SELECT 1 FROM pg_roles WHERE rolname = %s', (name,)))

    def existing_user(self, name, host='%'):
        """A validated, visible, existing role name or UserNotFound."""
        names.user_name(name)
        names.host(host)
        if self._hidden(name) or not self.role_exists(name):
            raise exception.UserNotFound(name=name)
        return name

    def checked_user(self, user):
        name = names.user_name(user.get('name'))
        names.host(user.get('host'))
        if self._hidden(name):
            raise exception.BadRequest(detail='user name %r is reserved' % name)
        password = user.get('password')
        if not isinstance(password, str) or not password:
            raise exception.BadRequest(detail='user %s needs a password' % name)
        dbs = [names.database_name(d.get('name')) for d in user.get('databases') or []]
        return name, password, dbs

    def set_password(self, name, password, verb='ALTER'):
        query = sql.SQL('%s ROLE {} WITH LOGIN PASSWORD {}' % verb).format(
            sql.Identifier(name), sql.Literal(scram.verifier(password)))
        self.execute(query)

    def create_users(self, users):
        # Check every entry (and database) first so a bad one creates nothing.
        checked = [self.checked_user(u) for u in users]
        for _name, _password, dbs in checked:
            for db in dbs:
                self.existing_db(db)
        for name, password, dbs in checked:
            self.set_password(name, password, 'ALTER' if self.role_exists(name) else 'CREATE')
            self.grant(name, dbs)

    def grant(self, name, databases):
        """All privileges on each database and on its public schema."""
        for db in databases:
            ident = sql.Identifier(db)
            self.execute(sql.SQL('GRANT ALL PRIVILEGES ON DATABASE {} TO {}').format(
                ident, sql.Identifier(name)))
            # PostgreSQL 15 no longer lets everyone create in public.
            self.execute(sql.SQL('GRANT ALL ON SCHEMA public TO {}').format(
                sql.Identifier(name)), dbname=db)

    def revoke(self, name, database):
        self.execute(sql.SQL('REVOKE ALL ON SCHEMA public FROM {}').format(
            sql.Identifier(name)), dbname=database)
        self.execute(sql.SQL('REVOKE ALL ON DATABASE {} FROM {}').format(
            sql.Identifier(database), sql.Identifier(name)))

    def access(self, name):
        """User-visible databases ``name`` holds an explicit CONNECT grant on."""
        rows = self.execute(
            'SELECT d.datname FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a '
            'JOIN pg_roles r ON r.oid = a.grantee WHERE r.rolname = %s '
            "AND a.privilege_type = 'CONNECT' AND NOT d.datistemplate ORDER BY 1", (name,))
        return [{'name': r[0]} for r in rows if r[0] not in CONF.postgresql.ignore_dbs]

    def delete_user(self, name, host='%'):
        self.existing_user(name, host)
        admin = sql.Identifier(CONF.postgresql.root_controller_user)
        for db in sorted(self.db_names()):
            # Objects the user made stay (now owned by the admin) so that
            # dropping a user never drops data; its grants go.
            self.execute(sql.SQL('REASSIGN OWNED BY {} TO {}').format(
                sql.Identifier(name), admin), dbname=db)
            self.execute(sql.SQL('DROP OWNED BY {}').format(sql.Identifier(name)), dbname=db)
        self.execute(sql.SQL('DROP ROLE {}').format(sql.Identifier(name)))

    def list_users(self):
        rows = self.execute('SELECT rolname FROM pg_roles ORDER BY rolname')
        return [{'name': n, 'host': '%', 'databases': self.access(n)}
                for (n,) in rows if not self._hidden(n)]

    def get_user(self, name, host='%'):
        self.existing_user(name, host)
        return {'name': name, 'host': '%', 'databases': self.access(name)}

    def rename(self, name, new_name):
        names.user_name(new_name)
        if self._hidden(new_name):
            raise exception.BadRequest(detail='user name %r is reserved' % new_name)
        if self.role_exists(new_name):
            raise exception.BadRequest(detail='user %s already exists' % new_name)
        self.execute(sql.SQL('ALTER ROLE {} RENAME TO {}').format(
            sql.Identifier(name), sql.Identifier(new_name)))

    # -- the Engine's user operations, checked before they change anything --
    def update_user(self, name, host, new_name=None, new_host=None, new_password=None):
        self.existing_user(name, host)
        names.host(new_host)
        if new_password is not None:
            self.checked_user({'name': name, 'password': new_password})
            self.set_password(name, new_password)
        if new_name and new_name != name:
            self.rename(name, new_name)

    def change_passwords(self, users):
        checked = [self.checked_user(u) for u in users]
        for name, _password, _dbs in checked:
            self.existing_user(name)
        for name, password, _dbs in checked:
            self.set_password(name, password)

    def grant_access(self, name, host, databases):
        self.existing_user(name, host)
        for db in databases:
            self.existing_db(db)
        self.grant(name, databases)

    def revoke_access(self, name, host, database):
        self.existing_user(name, host)
        self.revoke(name, self.existing_db(database))

    def list_access(self, name, host='%'):
        self.existing_user(name, host)
        return self.access(name)
