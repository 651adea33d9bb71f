"""The internal admin account and the hardening done during prepare.

The admin password is generated once, kept only in a 0600 file of the guest
state dir and used over the unix socket; it never appears in a command line,
a log message or an exception.
"""
import secrets

import pymysql
from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines.common import files
from trove.guestagent.engines.mysql import admin as admin_mod

LOG = logging.getLogger(__name__)


# The admin password file: the shared 0600 secret file of every engine.
AdminSecret = files.SecretFile


def _admin_works(socket_path, password):
    try:
        admin_mod.connect(socket_path, CONF.mariadb.root_controller_user, password).close()
        return True
    except pymysql.err.OperationalError:
        return False


def ensure_admin(socket_path, secret: AdminSecret):
    """Create (or repair) the admin user from the bootstrap socket login."""
    password = secret.ensure()
    if _admin_works(socket_path, password):
        return
    user = CONF.mariadb.root_controller_user
    LOG.info('Creating the internal admin user %s@localhost', user)
    try:
        conn = admin_mod.connect(socket_path, admin_mod.bootstrap_user())
    except pymysql.err.OperationalError as exc:
        raise exception.EngineError(
            detail='cannot log in to set up the admin user (error %s)' % exc.args[0])
    try:
        with conn.cursor() as cur:
            cur.execute('CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s',
                        (user, 'localhost', password))
            cur.execute('ALTER USER %s@%s IDENTIFIED BY %s', (user, 'localhost', password))
            cur.execute('GRANT ALL PRIVILEGES ON *.* TO %s@%s WITH GRANT OPTION',
                        (user, 'localhost'))
    finally:
        conn.close()


def harden(adm: admin_mod.Admin):
    """Drop anonymous users, the test database and root logins other than the socket."""
    for user, host in adm.execute("SELECT User, Host FROM mysql.user WHERE User = '' "
                                  "AND is_role = 'N'"):
        adm.execute('DROP USER %s@%s', (user, host))
    adm.execute('DROP DATABASE IF EXISTS `test`')
    # root keeps only its unix_socket login on localhost; root@'%' exists
    # only while the user asked for a root password.
    for _user, host in adm.execute("SELECT User, Host FROM mysql.user WHERE User = 'root' "
                                   "AND Host NOT IN ('localhost', '%%')"):
        adm.execute('DROP USER %s@%s', ('root', host))
    adm.execute('FLUSH PRIVILEGES')


def set_root_password(adm: admin_mod.Admin, password):
    """Enable remote root (root@'%') with ``password``."""
    if not isinstance(password, str) or not password:
        raise exception.BadRequest(detail='the root password must be a non-empty string')
    adm.execute("CREATE USER IF NOT EXISTS 'root'@'%%' IDENTIFIED BY %s", (password,))
    adm.execute("ALTER USER 'root'@'%%' IDENTIFIED BY %s", (password,))
    adm.execute("GRANT ALL PRIVILEGES ON *.* TO 'root'@'%%' WITH GRANT OPTION")


# Same length as upstream's default_password_length.
ROOT_PASSWORD_BYTES = 27  # token_urlsafe: 36 characters


def enable_root(adm: admin_mod.Admin, password=None):
    """Enable remote root with ``password`` (generated when None); returns the user."""
    if password is None:
        password = secrets.token_urlsafe(ROOT_PASSWORD_BYTES)
    set_root_password(adm, password)
    LOG.info("Remote root (root@'%%') enabled")
    return {'name': 'root', 'password': password}


def disable_root(adm: admin_mod.Admin):
    """Remove remote root; the socket-only root@localhost stays for the host OS."""
    adm.execute("DROP USER IF EXISTS 'root'@'%%'")
    LOG.info("Remote root (root@'%%') disabled")


def is_root_enabled(adm: admin_mod.Admin):
    """Whether a root account other than the socket-only root@localhost exists."""
    return bool(adm.execute("SELECT 1 FROM mysql.user WHERE User = 'root' "
                            "AND Host <> 'localhost'"))
