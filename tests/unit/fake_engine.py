"""An in-memory Engine for tests of the guest manager and the API.

It follows the contract of trove.guestagent.engines.base (and the MariaDB
engine's behaviour) closely enough that the API tests exercise the real
guest manager: names are validated, missing users and databases raise the
NotFound errors, reserved names raise BadRequest.
"""
import re

from trove.common import exception
from trove.guestagent.engines import base

_NAME = re.compile(r'^[A-Za-z0-9_.-]+$')
RESERVED_USERS = ('os_admin', 'root')
RESERVED_DBS = ('mysql', 'sys')


def _name(kind, value):
    if not isinstance(value, str) or not _NAME.match(value):
        raise exception.BadRequest(detail='%s %r is not valid' % (kind, value))
    return value


class MemoryEngine(base.Engine):
    """Databases and users in dicts; root as a password or None."""

    def __init__(self):
        self.dbs = {}
        self.users = {}  # (name, host) -> {'password', 'dbs': set}
        self.root_password = None

    def prepare(self, req):
        pass

    def start(self):
        pass

    def stop(self):
        pass

    def status(self):
        return 'healthy'

    def create_databases(self, databases):
        for db in databases:
            name = _name('database', db.get('name'))
            if name in RESERVED_DBS:
                raise exception.BadRequest(detail='database %r is reserved' % name)
            self.dbs.setdefault(name, db.get('character_set') or 'utf8mb4')

    def delete_database(self, name):
        if name not in self.dbs:
            raise exception.DatabaseNotFound(name=name)
        del self.dbs[name]

    def list_databases(self):
        return [{'name': n, 'character_set': cs, 'collate': None}
                for n, cs in self.dbs.items()]

    def _user(self, name, host):
        _name('user', name)
        if (name, host) not in self.users:
            raise exception.UserNotFound(name='%s@%s' % (name, host))
        return self.users[(name, host)]

    def create_users(self, users):
        for user in users:
            name = _name('user', user.get('name'))
            if name in RESERVED_USERS:
                raise exception.BadRequest(detail='user name %r is reserved' % name)
            dbs = {d['name'] for d in user.get('databases') or []}
            self.users[(name, user.get('host') or '%')] = {
                'password': user['password'], 'dbs': dbs}

    def delete_user(self, name, host='%'):
        self._user(name, host)
        del self.users[(name, host)]

    def _view(self, name, host):
        dbs = sorted(self.users[(name, host)]['dbs'])
        return {'name': name, 'host': host, 'databases': [{'name': d} for d in dbs]}

    def list_users(self):
        return [self._view(n, h) for n, h in self.users]

    def get_user(self, name, host='%'):
        self._user(name, host)
        return self._view(name, host)

    def update_user(self, name, host, new_name=None, new_host=None, new_password=None):
        user = self._user(name, host)
        target = (new_name or name, new_host or host)
        if target != (name, host):
            if target in self.users:
                raise exception.UserAlreadyExists(name='%s@%s' % target)
            self.users[target] = self.users.pop((name, host))
        if new_password:
            user['password'] = new_password

    def change_passwords(self, users):
        for user in users:
            self._user(user['name'], user.get('host') or '%')['password'] = user['password']

    def grant_access(self, name, host, databases):
        user = self._user(name, host)
        for db in databases:
            if db not in self.dbs:
                raise exception.DatabaseNotFound(name=db)
        user['dbs'].update(databases)

    def revoke_access(self, name, host, database):
        user = self._user(name, host)
        if database not in user['dbs'] and database not in self.dbs:
            raise exception.DatabaseNotFound(name=database)
        user['dbs'].discard(database)

    def list_access(self, name, host='%'):
        return self.get_user(name, host)['databases']

    def enable_root(self, password=None):
        self.root_password = password or 'generated-password-1234567890'
        return {'name': 'root', 'password': self.root_password}

    def disable_root(self):
        self.root_password = None

    def is_root_enabled(self):
        return self.root_password is not None
