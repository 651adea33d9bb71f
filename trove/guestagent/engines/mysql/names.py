"""Validation of database, user and host names for the mysql family.

Names end up inside backtick-quoted identifiers or bound parameters, but a
strict allow-list is still the first line of defence against injection and
keeps names portable across filesystems.
"""
import re

from trove.guestagent.engines.common.names import NAME_RE as _NAME_RE
from trove.guestagent.engines.common.names import check as _check

# Hosts: addresses, host names, wildcards and netmasks such as 10.0.0.0/255.0.0.0.
_HOST_RE = re.compile(r'^[A-Za-z0-9_.%:/-]+$')
_CHARSET_RE = re.compile(r'^[A-Za-z0-9_]+$')
MAX_DB_NAME = 64
MAX_USER_NAME = 80
MAX_HOST = 255


def database_name(name):
    """Return ``name`` if it is a valid database name, else raise BadRequest."""
    return _check('Database name', name, _NAME_RE, MAX_DB_NAME)


def user_name(name):
    """Return ``name`` if it is a valid user name, else raise BadRequest."""
    return _check('User name', name, _NAME_RE, MAX_USER_NAME)


def host(value):
    """Return ``value`` if it is a valid host pattern ('%' when None)."""
    if value is None:
        return '%'
    return _check('Host', value, _HOST_RE, MAX_HOST)


def charset(kind, value):
    """Validate a character set or collation name; None passes through."""
    if value is None:
        return None
    return _check(kind, value, _CHARSET_RE, 64)


def quote_ident(name):
    """Backtick-quote an identifier (backticks doubled, though validation forbids them)."""
    return '`%s`' % name.replace('`', '``')
