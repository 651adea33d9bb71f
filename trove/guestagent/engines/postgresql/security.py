"""The PostgreSQL "root": a superuser role named ``root`` and its password.

As upstream: the role is created by the first enable (the cluster itself
is initialised with the internal admin only, so there is no ``postgres``).

Root is enabled when that role may log in with a password; disabling takes
both away again.  The internal admin is a different role that only logs in
by peer authentication, so root enable/disable never locks the agent out.
"""
from oslo_log import log as logging
from psycopg import sql

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines.common import files
from trove.guestagent.engines.postgresql import scram

LOG = logging.getLogger(__name__)


def enable_root(admin, password=None):
    """Let the superuser log in with ``password`` (generated when None)."""
    if password is None:
        password = files.generate_password()
    if not isinstance(password, str) or not password:
        raise exception.BadRequest(detail='the root password must be a non-empty string')
    user = CONF.postgresql.root_user
    verb = 'ALTER' if admin.role_exists(user) else 'CREATE'
    admin.execute(sql.SQL('%s ROLE {} WITH SUPERUSER LOGIN PASSWORD {}' % verb).format(
        sql.Identifier(user), sql.Literal(scram.verifier(password))))
    LOG.info('Superuser %s enabled', user)
    return {'name': user, 'password': password}


def disable_root(admin):
    """The superuser keeps existing (objects may belong to it) but cannot log in."""
    user = CONF.postgresql.root_user
    if admin.role_exists(user):
        admin.execute(sql.SQL('ALTER ROLE {} WITH NOLOGIN PASSWORD NULL').format(
            sql.Identifier(user)))
    LOG.info('Superuser %s disabled', user)


def is_root_enabled(admin):
    rows = admin.execute('SELECT rolcanlogin AND rolpassword IS NOT NULL FROM pg_authid '
                         'WHERE rolname = %s', (CONF.postgresql.root_user,))
    return bool(rows and rows[0][0])
