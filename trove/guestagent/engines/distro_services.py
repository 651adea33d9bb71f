"""Keep the distribution's own engine services out of the agent's way.

The agent runs each engine as its own child with a private datadir and port;
Debian's packages ship units (mariadb.service and mariadb.socket,
postgresql@.service, redis-server.service) that start on install and take
the same ports (3306, 5432, 6379), so a prepare right after an install fails
with "Address already in use".  While the agent installs packages a
policy-rc.d forbids every service start (invoke-rc.d and deb-systemd-invoke
honour it); afterwards the units the install brought are disabled and masked,
so no boot starts them either.  Units that existed before the install are
left alone: on a host that runs the agent beside its own databases (the
local compute driver) those belong to the operator.
"""
import contextlib
import os

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

POLICY_RC_D = '/usr/sbin/policy-rc.d'
# sd_booted(3): systemd is PID 1 when this directory exists.
SYSTEMD_RUNTIME = '/run/systemd/system'
UNIT_DIRS = ('/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system')
# The units Debian bookworm's engine packages ship (templates cover every
# instance: masking postgresql@.service masks postgresql@15-main too).
# tools/guest-image/build masks the same set in the image.
ENGINE_UNITS = {
    'mariadb': ('mariadb.service', 'mariadb.socket', 'mariadb@.service',
                'mariadb@.socket', 'mysql.service', 'mysqld.service'),
    'postgresql': ('postgresql.service', 'postgresql@.service'),
    'redis': ('redis-server.service', 'redis-server@.service'),
}
# Exit status 101 means "action forbidden by policy" (invoke-rc.d(8)).
_POLICY = '#!/bin/sh\n# Written by trove-guestagent while it installs engine packages.\nexit 101\n'


@contextlib.contextmanager
def starts_forbidden(path=None):
    """Forbid service starts by maintainer scripts for the duration.

    An operator's own policy-rc.d is kept aside and put back afterwards.
    """
    path = path or POLICY_RC_D
    saved = path + '.trove-saved'
    had_own = os.path.lexists(path)
    if had_own:
        os.replace(path, saved)
    try:
        with open(path, 'w') as f:
            f.write(_POLICY)
        os.chmod(path, 0o755)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        if had_own:
            os.replace(saved, path)


def present_units(units, unit_dirs=None):
    """The subset of ``units`` with a unit file (or mask) on disk."""
    dirs = unit_dirs or UNIT_DIRS
    return {u for u in units if any(os.path.lexists(os.path.join(d, u)) for d in dirs)}


def disable_and_mask(units, run, runtime_dir=None):
    """Stop, disable and mask ``units`` with systemctl.

    ``run`` is process.run (passed in to keep this module free of a cycle).
    Without a running systemd (a chroot, a container) systemctl works on the
    files only: ``--root=/`` disables and masks without talking to PID 1.
    Failures are logged, not raised: the engine can still start when the
    distribution service is merely enabled, since policy-rc.d kept it down.
    """
    units = sorted(units)
    if not units:
        return
    online = os.path.isdir(runtime_dir or SYSTEMD_RUNTIME)
    steps = ([['systemctl', 'disable', '--now'], ['systemctl', 'mask']] if online else
             [['systemctl', '--root=/', 'disable'], ['systemctl', '--root=/', 'mask']])
    for step in steps:
        result = run(step + units, check=False)
        if result.returncode != 0:
            LOG.warning('%s failed: %s', ' '.join(step + units), (result.stderr or '').strip())
    LOG.info('Distribution units %s disabled and masked', ', '.join(units))
