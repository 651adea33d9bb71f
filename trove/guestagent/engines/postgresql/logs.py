"""The guest logs of PostgreSQL: ``general`` (USER) and ``guest`` (SYS).

The server writes its log to stderr, which the agent sends to
``<log dir>/postgresql.log`` (logging_collector is pinned off, see config.py);
``general`` is that file, and enabling it makes the server log every
statement (``log_statement = all``).  ALTER SYSTEM keeps the setting in
postgresql.auto.conf, which the server reads after our files, so it survives
restarts and configuration-group changes; a reload applies it.
"""
import functools

from trove.guestagent import guest_log
from trove.guestagent.engines.postgresql import config


def definitions(paths: config.Paths, admin) -> list:
    return [guest_log.LogDefinition('general', guest_log.USER, paths.console_log,
                                    enabled=functools.partial(_enabled, admin),
                                    set_enabled=functools.partial(_switch, admin)),
            guest_log.agent_log()]


def _enabled(admin):
    return admin.execute('SHOW log_statement')[0][0] == 'all'


def _switch(admin, on):
    if on:
        admin.execute("ALTER SYSTEM SET log_statement = 'all'")
    else:
        admin.execute('ALTER SYSTEM RESET log_statement')
    admin.execute('SELECT pg_reload_conf()')
