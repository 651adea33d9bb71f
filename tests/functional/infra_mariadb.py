"""A private infrastructure database on the machine's MariaDB server.

A database and an account that owns it, used over TCP with a password the
way trove's services use theirs; dropped (with the account) by ``drop()``.
"""
import os
import secrets
import uuid

import pymysql
import pytest

# The server's administrator: root over the local socket works on a stock
# Debian server (unix_socket authentication for the OS root) and on one whose
# root has an empty password; root over TCP only on the latter.
SOCKET = os.environ.get('TROVE_MARIADB_SOCKET', '/run/mysqld/mysqld.sock')
PORT = int(os.environ.get('TROVE_MARIADB_PORT', '3306'))
# With skip-name-resolve a TCP client from 127.0.0.1 matches only '127.0.0.1',
# without it 'localhost': the account gets both.
HOSTS = ('127.0.0.1', 'localhost')


def admin():
    """A root connection (autocommit); fails the test when there is none."""
    errors = []
    for kwargs in (dict(unix_socket=SOCKET), dict(host='127.0.0.1', port=PORT)):
        try:
            return pymysql.connect(user='root', connect_timeout=5, autocommit=True, **kwargs)
        except pymysql.err.OperationalError as exc:
            errors.append('%s: %s' % (kwargs, exc))
    pytest.fail('MariaDB server on 127.0.0.1:%d is needed (bin/run-tests starts it); '
                'root could not log in: %s' % (PORT, '; '.join(errors)))


class InfraDatabase:
    """``url`` (SQLAlchemy), ``connect()`` as its owner, ``drop()``."""

    def __init__(self):
        self.name = 'trove_ft_%s' % uuid.uuid4().hex[:8]
        self.password = secrets.token_urlsafe(18)
        conn = admin()
        try:
            with conn.cursor() as cur:
                cur.execute('CREATE DATABASE `%s`' % self.name)
                for host in HOSTS:
                    cur.execute('CREATE USER %s@%s IDENTIFIED BY %s',
                                (self.name, host, self.password))
                    cur.execute('GRANT ALL PRIVILEGES ON `%s`.* TO %%s@%%s' % self.name,
                                (self.name, host))
        finally:
            conn.close()

    @property
    def url(self):
        return 'mysql+pymysql://%s:%s@127.0.0.1:%d/%s' % (self.name, self.password, PORT,
                                                          self.name)

    def connect(self):
        return pymysql.connect(host='127.0.0.1', port=PORT, user=self.name,
                               password=self.password, database=self.name, autocommit=True)

    def drop(self):
        conn = admin()
        try:
            with conn.cursor() as cur:
                for host in HOSTS:
                    cur.execute('DROP USER IF EXISTS %s@%s', (self.name, host))
                cur.execute('DROP DATABASE IF EXISTS `%s`' % self.name)
        finally:
            conn.close()
