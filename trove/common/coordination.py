"""Coordination of several taskmanager processes through tooz.

With ``[coordination] backend_url`` set, every taskmanager joins the group
``trove-taskmanagers`` under a member id of its own (host and PID, so a
restarted process is a new member and its predecessor's work is taken over
like any dead member's) and

* holds per-instance locks in the backend, so two taskmanagers never run
  flows of one instance at once (``locks.instance_lock``);
* runs a periodic job only while it leads that job (``leads``: a lock it
  keeps until it dies, when another member takes it);
* takes over the tasks of members that left the group
  (``trove.taskmanager.takeover``).

Without it (the single-host default) there is one taskmanager: locks stay in
the process, every periodic job runs there, and no extra service is needed.
"""
import os
import threading

from oslo_log import log as logging

from trove.conf import CONF

LOG = logging.getLogger(__name__)
GROUP = b'trove-taskmanagers'

_STATE = {'coordinator': None, 'member': None}
_LEADS = {}  # periodic job name -> the tooz lock this process holds for it
_GUARD = threading.Lock()


def enabled():
    """True when this process coordinates with others through a backend."""
    return _STATE['coordinator'] is not None


def member_id():
    """This process's member id ('host.pid'), or None when not coordinated."""
    return _STATE['member']


def start(group=GROUP):
    """Connect to the backend and join ``group``; no-op without a backend."""
    url = CONF.coordination.backend_url
    if not url or enabled():
        return
    from tooz import coordination as tooz_coordination
    member = '%s.%d' % (CONF.host, os.getpid())
    coordinator = tooz_coordination.get_coordinator(url, member.encode())
    # The heart refreshes the member's liveness key and every lock held.
    coordinator.start(start_heart=True)
    try:
        coordinator.create_group(group).get()
    except tooz_coordination.GroupAlreadyExist:
        pass
    coordinator.join_group(group).get()
    _STATE.update(coordinator=coordinator, member=member)
    LOG.info('Joined coordination group %s as %s', group.decode(), member)


def stop(group=GROUP):
    """Leave the group (the others take over at once) and disconnect."""
    coordinator = _STATE['coordinator']
    if coordinator is None:
        return
    _STATE.update(coordinator=None, member=None)
    _LEADS.clear()
    try:
        coordinator.leave_group(group).get()
    except Exception as exc:
        LOG.warning('Leaving coordination group %s failed: %s', group.decode(), exc)
    coordinator.stop()


def members(group=GROUP):
    """Member ids of the live members of ``group``."""
    coordinator = _STATE['coordinator']
    return {m.decode() for m in coordinator.get_members(group).get()}


def get_lock(name):
    """The backend's lock called ``name`` (acquire/release, a context manager)."""
    return _STATE['coordinator'].get_lock(name.encode())


def leads(job):
    """True while this process is the one that runs periodic job ``job``.

    Always true without a backend.  Otherwise the first member to take the
    job's lock keeps it; when it dies its lock expires and the next call of
    another member takes it, so a job runs in one process at a time.
    """
    if not enabled():
        return True
    with _GUARD:
        held = _LEADS.get(job)
        if held is not None:
            try:
                if held.is_still_owner():
                    return True
            except Exception as exc:
                LOG.warning('Checking the lead of %s failed: %s', job, exc)
                return False
            LOG.warning('Lost the lead of periodic job %s', job)
            _LEADS.pop(job, None)
        lock = get_lock('trove-periodic-%s' % job)
        if lock.acquire(blocking=False):
            LOG.info('This taskmanager now runs periodic job %s', job)
            _LEADS[job] = lock
            return True
        return False


def led(job, func):
    """``func`` wrapped to run only while this process leads ``job``."""
    def run():
        if leads(job):
            return func()
        return None
    return run
