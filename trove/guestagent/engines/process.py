"""Process helpers shared by the engine managers.

Commands are logged by program name and arguments, but engine managers never
put secrets on a command line; ``run`` additionally masks arguments that look
like passwords so a mistake does not leak one into a log or an exception.
"""
import os
import shutil
import subprocess
import time

from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines import distro_services
from trove.guestagent.engines.common import files

LOG = logging.getLogger(__name__)
_SECRET_MARKERS = ('password', 'passwd', 'secret', 'pwd')


def safe_cmd(cmd):
    """The command as text with any password-like argument masked."""
    shown = []
    for arg in cmd:
        arg = str(arg)
        if any(m in arg.lower() for m in _SECRET_MARKERS):
            key, sep, _ = arg.partition('=')
            arg = key + sep + '***' if sep else '***'
        shown.append(arg)
    return ' '.join(shown)


def run(cmd, timeout=120, check=True, env=None, input_text=None, ids=None, cwd=None):
    """Run ``cmd`` (a list) and return the CompletedProcess with text output.

    ``ids`` is an optional (uid, gid) the command runs as (initdb refuses
    root), with that user's HOME (files.engine_env).  Raises
    ProcessExecutionError with the (tail of) stderr when the
    command fails or does not finish within ``timeout`` seconds.
    """
    safe = safe_cmd(cmd)
    LOG.debug('Running %s', safe)
    kwargs = {'user': ids[0], 'group': ids[1], 'extra_groups': []} if ids else {}
    env = files.engine_env(ids, env)
    try:
        result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                                timeout=timeout, env=env, input=input_text, check=False,
                                cwd=cwd, **kwargs)
    except subprocess.TimeoutExpired:
        raise exception.ProcessExecutionError(
            cmd=safe, exit_code='timeout', stderr='no exit after %ss' % timeout)
    except OSError as exc:
        raise exception.ProcessExecutionError(cmd=safe, exit_code='error', stderr=str(exc))
    if check and result.returncode != 0:
        # Some tools (mariadb-install-db) report their errors on stdout.
        detail = (result.stderr or '').strip() or (result.stdout or '').strip()
        raise exception.ProcessExecutionError(
            cmd=safe, exit_code=result.returncode, stderr=detail[-2000:])
    return result


def wait_for(condition, timeout, interval=0.2, what='condition'):
    """Poll ``condition()`` until it is truthy; return its value.

    Returns None when ``timeout`` seconds pass first (the caller decides
    whether that is an error, since only it knows what to report).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            LOG.debug('Gave up waiting for %s after %ss', what, timeout)
            return None
        time.sleep(interval)


def find_binary(name, extra_dirs=('/usr/sbin', '/usr/local/sbin', '/sbin')):
    """Full path of executable ``name`` or None; sbin dirs are searched too
    because an agent's PATH often lacks them."""
    path = shutil.which(name)
    if path:
        return path
    for d in extra_dirs:
        candidate = os.path.join(d, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def ensure_packages(binaries, packages, timeout=900, finder=find_binary, units=()):
    """Install Debian ``packages`` with apt-get if any of ``binaries`` is missing.

    ``finder(name)`` locates a binary (engines with versioned bin dirs pass
    their own).  ``units`` are the distribution's systemd units of the engine:
    none may start during the install, and those the install brought are
    disabled and masked afterwards (see distro_services).  Only when
    CONF.install_packages allows it; raises EngineError otherwise or when the
    binaries are still missing afterwards.
    """
    missing = [b for b in binaries if not finder(b)]
    if not missing:
        return
    if not CONF.install_packages:
        raise exception.EngineError(detail='missing %s and install_packages is off'
                                    % ', '.join(missing))
    LOG.info('Installing %s because %s is missing', ' '.join(packages), ', '.join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    before = distro_services.present_units(units)
    run(['apt-get', 'update'], timeout=timeout, env=env)
    # --no-install-recommends keeps the install small.
    with distro_services.starts_forbidden():
        run(['apt-get', 'install', '-y', '--no-install-recommends'] + list(packages),
            timeout=timeout, env=env)
    distro_services.disable_and_mask(distro_services.present_units(units) - before, run)
    still = [b for b in binaries if not finder(b)]
    if still:
        raise exception.EngineError(detail='%s still missing after installing %s'
                                    % (', '.join(still), ' '.join(packages)))


def pid_alive(pid):
    """Whether a process ``pid`` exists and is not a zombie."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open('/proc/%d/stat' % pid) as f:
            # Field 3 is the state; Z means exited but not yet reaped.
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return True


def tail(path, lines=20):
    """The last ``lines`` lines of a text file, '' if unreadable."""
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''
