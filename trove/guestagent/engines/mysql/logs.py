"""The guest logs of MariaDB: ``general`` and ``slow_query`` (USER), ``error``
and ``guest`` (SYS).

Switching a USER log sets it live (``SET GLOBAL``) and records it in
conf.d/30-guest-logs.cnf.  A file of its own, read after the
configuration-group file 20-overrides.cnf, keeps the choice across restarts
and across group attach/detach, which rewrite 20-overrides.cnf whole.
"""
import functools
import os

from trove.guestagent import guest_log
from trove.guestagent.engines.common import files
from trove.guestagent.engines.mysql import config

LOGS_FILE = '30-guest-logs.cnf'
# log name -> (switch variable, file variable, file name in the log dir)
USER_LOGS = {
    'general': ('general_log', 'general_log_file', 'general.log'),
    'slow_query': ('slow_query_log', 'slow_query_log_file', 'slow_query.log'),
}


def definitions(paths: config.Paths, admin) -> list:
    """LogDefinitions of the engine, USER logs first."""
    defs = []
    for name, (switch, file_var, file_name) in USER_LOGS.items():
        path = os.path.join(paths.log_dir, file_name)
        defs.append(guest_log.LogDefinition(
            name, guest_log.USER, path,
            enabled=functools.partial(_enabled, admin, switch),
            set_enabled=functools.partial(_switch, paths, admin, switch, file_var, path)))
    defs.append(guest_log.LogDefinition('error', guest_log.SYS, paths.error_log))
    defs.append(guest_log.agent_log())
    return defs


def _enabled(admin, switch):
    rows = admin.execute('SELECT @@GLOBAL.%s' % switch)
    return bool(int(rows[0][0]))


def _switch(paths, admin, switch, file_var, path, on):
    """Live first: if the engine refuses, nothing is persisted."""
    if on:
        admin.execute('SET GLOBAL %s = %%s' % file_var, (path,))
        admin.execute('SET GLOBAL %s = 1' % switch)
    else:
        admin.execute('SET GLOBAL %s = 0' % switch)
    settings = read_settings(paths)
    settings.update({switch: int(on), file_var: path})
    os.makedirs(paths.conf_d, exist_ok=True)
    files.write_file(os.path.join(paths.conf_d, LOGS_FILE), config.render_overrides(settings))


def read_settings(paths: config.Paths) -> dict:
    """``option -> value`` of 30-guest-logs.cnf ({} when absent)."""
    settings = {}
    try:
        with open(os.path.join(paths.conf_d, LOGS_FILE)) as f:
            for line in f:
                key, sep, value = line.partition('=')
                if sep:
                    settings[key.strip()] = value.strip()
    except FileNotFoundError:
        pass
    return settings
