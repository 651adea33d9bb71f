"""Configuration-group values on a running MariaDB.

``write`` persists them in conf.d/20-overrides.cnf (read at the next start),
``apply`` sets the dynamic ones live with ``SET GLOBAL``, and
``write_template`` replaces the flavor-sized conf.d/10-trove.cnf when the
flavor changes.  A value of None in ``apply`` means "back to the default"
(``SET GLOBAL x = DEFAULT``), which is how a detach undoes a live change
of an option the template does not set.
"""
import os
import re

from oslo_log import log as logging

from trove.common import exception
from trove.guestagent.engines.common import files
from trove.guestagent.engines.mysql import config

LOG = logging.getLogger(__name__)

_NAME = re.compile(r'^[a-z][a-z0-9_]{0,63}$')
_SIZE = re.compile(r'^(\d+)([KMGkmg])$')
_UNITS = {'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3}


def write(paths: config.Paths, overrides: dict, remove: bool = False) -> None:
    """Persist the group's values (all of them) or, with ``remove``, drop them."""
    os.makedirs(paths.conf_d, exist_ok=True)
    text = config.render_overrides({} if remove else overrides)
    files.write_file(os.path.join(paths.conf_d, config.OVERRIDES_FILE), text)
    LOG.info('Wrote %d configuration overrides', 0 if remove else len(overrides or {}))


def write_template(paths: config.Paths, config_contents: str) -> None:
    """Replace the flavor-sized part of the configuration."""
    if not config_contents:
        raise exception.BadRequest('empty configuration template')
    os.makedirs(paths.conf_d, exist_ok=True)
    files.write_template(os.path.join(paths.conf_d, config.TEMPLATE_FILE), config_contents)


def variable_name(key) -> str:
    """The server variable of an option name (``character-set-server`` style allowed)."""
    name = str(key).strip().replace('-', '_').lower()
    if not _NAME.match(name):
        raise exception.BadRequest('invalid configuration option name %r' % key)
    return name


def sql_value(value):
    """``(sql_fragment, args)`` for the right-hand side of SET GLOBAL."""
    if value is None:
        return 'DEFAULT', ()
    if isinstance(value, bool):
        return '%s', (int(value),)
    if isinstance(value, (int, float)):
        return '%s', (value,)
    text = str(value).strip()
    size = _SIZE.match(text)
    if size:
        # Config-file sizes such as 512M are not valid SQL; send bytes.
        return '%s', (int(size.group(1)) * _UNITS[size.group(2).lower()],)
    if text.isdigit():
        return '%s', (int(text),)
    return '%s', (text,)


def apply(admin, overrides: dict) -> list:
    """``SET GLOBAL`` each value; returns the names that were set.

    Every statement is tried so one bad value does not hide the others;
    the first failure is raised at the end with the option it was about.
    """
    applied, failures = [], []
    for key in sorted(overrides or {}):
        name = variable_name(key)
        fragment, args = sql_value(overrides[key])
        try:
            admin.execute('SET GLOBAL %s = %s' % (name, fragment), args)
            applied.append(name)
        except Exception as exc:  # pymysql errors carry the server's reason
            LOG.warning('SET GLOBAL %s failed: %s', name, exc)
            failures.append('%s: %s' % (name, exc))
    if failures:
        raise exception.EngineError(detail='could not apply ' + '; '.join(failures))
    LOG.info('Applied %d configuration values live', len(applied))
    return applied
