"""Processes of local servers: boot a guest agent, find its session, power it off.

A local server's processes are exactly those of one POSIX session: the guest
agent is started as a session leader and starts the database engine as its
child, so the engine inherits the session.  /proc is the source of truth,
which keeps this working after a taskmanager restart.
"""
import contextlib
import os
import shutil
import signal
import subprocess
import time

from oslo_log import log as logging

from trove.common import exception

LOG = logging.getLogger(__name__)

# Popen objects of agents started by this process.  Only kept so their exit
# status gets collected (no zombies) and Popen does not warn on collection;
# it is not a registry: state always comes from /proc.
_CHILDREN = {}

# Seconds between SIGTERM and SIGKILL when powering a server off.
TERM_GRACE = 10.0
_POLL = 0.1


def proc_stat(pid):
    """(state, sid, start_time) of ``pid`` from /proc, or None if it is gone.

    The command name (field 2) may contain spaces and parentheses, so the
    fields are counted from the last ')'.
    """
    try:
        with open('/proc/%d/stat' % pid) as f:
            data = f.read()
    except (OSError, ValueError):
        return None
    rest = data[data.rfind(')') + 2:].split()
    # rest[0] is field 3 (state), field 6 (session) is rest[3], field 22
    # (start time in clock ticks since boot) is rest[19].
    try:
        return rest[0], int(rest[3]), int(rest[19])
    except (IndexError, ValueError):
        return None


def _reap():
    """Collect exit statuses of agents we started so they do not linger as zombies."""
    for pid, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            # Builds and deletes run on many threads: another may have
            # reaped this one since the copy was taken.
            _CHILDREN.pop(pid, None)


def session_members(sid, start_time):
    """Live pids of the session ``sid`` that began at ``start_time``.

    Guards against pid reuse: if the leader pid is alive but started at a
    different time, the session is somebody else's.  A member cannot have
    started before its session leader.  Zombies are already dead.
    """
    if not sid:
        return []
    _reap()
    leader = proc_stat(sid)
    if leader and start_time is not None and leader[2] != start_time:
        return []
    members = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        info = proc_stat(int(name))
        if info is None or info[1] != sid or info[0] in ('Z', 'X'):
            continue
        if start_time is not None and info[2] < start_time:
            continue
        members.append(int(name))
    return members


def session_alive(sid, start_time):
    """Whether the session ``sid`` that began at ``start_time`` has a live process.

    A live leader answers without reading the rest of /proc: a server's
    status is asked for every server at once (list_servers), and scanning
    all of /proc for each made listing fifty servers take seconds of CPU.
    """
    if not sid:
        return False
    _reap()
    leader = proc_stat(sid)
    if leader and leader[1] == sid and leader[0] not in ('Z', 'X') and (
            start_time is None or leader[2] == start_time):
        return True
    return bool(session_members(sid, start_time))


def _signal_all(pids, sig):
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def power_off(sid, start_time, timeout):
    """Terminate every process of the session; ComputeError after ``timeout`` s.

    SIGTERM first so the engine can shut down cleanly, SIGKILL what is left
    after TERM_GRACE seconds, then wait until the session is empty.
    """
    deadline = time.monotonic() + timeout
    kill_at = time.monotonic() + min(TERM_GRACE, timeout / 2.0)
    termed, killed = set(), set()
    while True:
        members = session_members(sid, start_time)
        if not members:
            return
        now = time.monotonic()
        if now >= deadline:
            raise exception.ComputeError(
                detail='processes %s of session %s survived SIGKILL' % (members, sid))
        # Re-scan each round: a process may fork while being shut down.
        if now >= kill_at:
            _signal_all([p for p in members if p not in killed], signal.SIGKILL)
            killed.update(members)
        else:
            _signal_all([p for p in members if p not in termed], signal.SIGTERM)
            termed.update(members)
        time.sleep(_POLL)


def agent_env():
    """os.environ plus a PYTHONPATH that finds this ``trove`` package.

    Needed when running from a source tree that is not installed.
    """
    import trove
    src = os.path.dirname(os.path.dirname(os.path.abspath(trove.__file__)))
    env = dict(os.environ)
    parts = [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p]
    if src not in parts:
        parts.insert(0, src)
    env['PYTHONPATH'] = os.pathsep.join(parts)
    return env


def niced(argv, nice):
    """``argv`` run at CPU niceness ``nice`` (through nice(1), which execs it:
    the pid, session and start time stay those of the process started)."""
    binary = shutil.which('nice') if nice else None
    return [binary, '-n', str(nice), *argv] if binary else list(argv)


def nice_session(sid, nice):
    """Give the session's scheduling group niceness ``nice`` (best effort).

    With autogroup scheduling (Linux's default on desktops and many VMs)
    every session is its own group and the groups share the CPU equally,
    whatever the niceness of their processes: fifty guest sessions would
    get fifty shares against the control plane's one.  The group's own
    niceness is what counts there.
    """
    try:
        with open('/proc/%d/autogroup' % sid, 'w') as f:
            f.write(str(nice))
    except OSError:
        pass  # no autogroup: the processes' niceness already applies


def spawn(argv, cwd, log_path, env=None, nice=0):
    """Start ``argv`` detached in a new session; returns (pid, sid, start_time).

    This is the local stand-in for cloud-init starting the agent unit.
    Output is appended to ``log_path``; ``env`` defaults to agent_env().
    ``nice`` is the niceness of the session (every child inherits it).
    """
    name, argv = argv[0], niced(argv, nice)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, 'ab') as log:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=log, env=env or agent_env(), start_new_session=True,
                                close_fds=True)
    _CHILDREN[proc.pid] = proc
    if nice:
        nice_session(proc.pid, nice)
    info = proc_stat(proc.pid)
    # start_new_session makes the child a session leader: sid == pid.
    start_time = info[2] if info else None
    LOG.info('Started %s as pid %d in %s', name, proc.pid, cwd)
    return proc.pid, proc.pid, start_time
