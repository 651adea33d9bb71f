"""Validation of PostgreSQL database, role and locale names.

Identifiers are always quoted with psycopg.sql.Identifier as well; the
allow-list keeps names portable and the 'pg_' prefix is PostgreSQL's own.
"""
import re

from trove.common import exception
from trove.guestagent.engines.common.names import check

# NAMEDATALEN - 1: longer identifiers would be silently truncated.
MAX_NAME = 63
_LOCALE_RE = re.compile(r'^[A-Za-z0-9_.@-]+$')


def database_name(name):
    """Return ``name`` if it is a valid database name, else raise BadRequest."""
    return check('Database name', name, max_len=MAX_NAME)


def user_name(name):
    """Return ``name`` if it is a valid role name, else raise BadRequest."""
    check('User name', name, max_len=MAX_NAME)
    if name.lower().startswith('pg_'):
        raise exception.BadRequest(detail='user names starting with pg_ are reserved')
    return name


def host(value):
    """PostgreSQL roles have no host part: only '%' (or none) is accepted."""
    if value in (None, '%'):
        return '%'
    raise exception.BadRequest(detail='PostgreSQL users have no host; use %')


def locale(kind, value):
    """Validate an encoding or collation name; None passes through."""
    if value is None:
        return None
    return check(kind, value, _LOCALE_RE, 64)
