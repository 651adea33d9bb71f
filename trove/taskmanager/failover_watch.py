"""Find failed primaries of highly available replica sets; start their failover.

Runs every ``[failover] check_interval`` seconds in the one taskmanager that
leads the job ``failover-watch`` (trove.common.coordination), from what the
control plane already has.  A primary whose task is NONE has failed when

* its server is gone, or no longer running, per the compute driver;
* its guest has not reported for ``primary_silence`` seconds and does not
  answer a direct status call within ``confirm_timeout`` with its engine up
  (a busy or delayed guest is a blip, not a failure);
* its guest has reported the engine down (crashed, shut down, failed) for
  ``engine_down_grace`` seconds: the guest's own restart of the engine
  (self-healing) gets that first, short chance.

It fails over only when a replica is live (task NONE, reporting, healthy).
A primary whose engine stays down with no live replica to take over gets
one engine restart from its guest per down spell: a guarded primary keeps a
down engine down at agent start (flows/high_availability.py), and without a
failover nobody else would start it.
Claiming the primary's task (NONE -> EJECTING, request ``fail_over``) is a
conditional update, so one failure starts one failover, even if a second
watch ran; the flow runs on a thread of its own (flows/failover.py).
"""
import threading
import time

from oslo_log import log as logging

from trove.common import context as trove_context
from trove.common import exception
from trove.common import states
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import models
from trove.db import replicas
from trove.db import task_requests
from trove.guestagent import rpcapi as guest_rpcapi
from trove.taskmanager.flows import failover as failover_flow

LOG = logging.getLogger(__name__)
Task = states.InstanceTask
Status = states.ServiceStatus

ENGINE_DOWN = (Status.CRASHED, Status.SHUTDOWN, Status.FAILED)
SILENT = 'no heartbeat from its guest'
ENGINE_REPORTED = 'its guest reports the engine'
_DOWN_SINCE = {}   # primary id -> time.monotonic() its engine was first seen down
_NO_REPLICA = set()  # primaries already logged as failed without a live replica
_RESTARTED = set()   # primaries restarted in their current down spell


def _age(row, now):
    if row is None or row.updated_at is None:
        return None
    return (now - row.updated_at).total_seconds()


def _answers_up(primary_id):
    """True when the silent primary's guest answers with its engine up."""
    try:
        status = guest_rpcapi.GuestAPI(trove_context.admin_context(), primary_id).get_status(
            timeout=CONF.failover.confirm_timeout)
    except Exception:
        return False
    up = status in (Status.HEALTHY.description, Status.RUNNING.description)
    if up:
        LOG.info('Primary %s is silent but its guest answers %s: not failing over',
                 primary_id, status)
    return up


def _live(replica, now):
    row = db_api.get_service_status(replica.id)
    age = _age(row, now)
    return (Task.from_code(replica.task_id) is Task.NONE and age is not None
            and age < CONF.failover.primary_silence
            and Status.from_code(row.status_id) in (Status.HEALTHY, Status.RUNNING))


def _restart_once(primary_id):
    """Ask the guest of a down primary with nobody to take over to start its
    engine (on a thread: the call may take a while)."""
    if primary_id in _RESTARTED:
        return
    _RESTARTED.add(primary_id)
    LOG.warning('Primary %s has its engine down and no live replica: restarting it',
                primary_id)

    def run():
        try:
            guest_rpcapi.GuestAPI(trove_context.admin_context(), primary_id).restart()
        except Exception as exc:
            LOG.error('Restarting the engine of primary %s failed: %s', primary_id, exc)
    threading.Thread(target=run, daemon=True, name='restart-%s' % primary_id).start()


def failure(driver, primary_id, now=None, clock=None):
    """``(reason, last heartbeat)`` when the primary has failed, else ``(None, None)``."""
    now = now or models.utcnow()
    clock = time.monotonic() if clock is None else clock
    inst = db_api.get_instance(primary_id)
    if Task.from_code(inst.task_id) is not Task.NONE:
        return None, None
    row = db_api.get_service_status(primary_id)
    last_seen = row.updated_at if row is not None else None
    reason = failover_flow.server_problem(driver, inst)
    age = _age(row, now)
    if (reason is None and age is not None and age >= CONF.failover.primary_silence
            and not _answers_up(primary_id)):
        reason = '%s for %.0f s' % (SILENT, age)
    status = Status.from_code(row.status_id) if row is not None else None
    if status in ENGINE_DOWN and reason is None:
        down = clock - _DOWN_SINCE.setdefault(primary_id, clock)
        if down >= CONF.failover.engine_down_grace:
            reason = '%s %s for %.0f s' % (ENGINE_REPORTED, status.description, down)
    elif status not in ENGINE_DOWN:
        _DOWN_SINCE.pop(primary_id, None)
        _RESTARTED.discard(primary_id)
    if reason is None:
        _NO_REPLICA.discard(primary_id)
        return None, None
    if not any(_live(r, now) for r in replicas.list_replicas(primary_id)):
        if primary_id not in _NO_REPLICA:
            LOG.error('Primary %s has failed (%s) but no replica is live to take over',
                      primary_id, reason)
            _NO_REPLICA.add(primary_id)
        if status in ENGINE_DOWN and reason.startswith(ENGINE_REPORTED):
            _restart_once(primary_id)
        return None, None
    return reason, last_seen


def start(manager, primary_id, reason, last_seen):
    """Claim the failover of ``primary_id`` and run it on a thread; False
    when another one claimed the primary first."""
    # A guest that did not answer the status call is not asked to stop its
    # engine either: the fence powers the server off at once.
    payload = {'reason': reason, 'last_seen': last_seen.isoformat() if last_seen else None,
               'guest_silent': reason.startswith(SILENT)}
    if task_requests.claim(primary_id, Task.EJECTING, (Task.NONE,), failover_flow.ACTION,
                           payload) is None:
        return False
    _DOWN_SINCE.pop(primary_id, None)
    threading.Thread(target=manager.fail_over, args=(trove_context.admin_context(),),
                     kwargs=dict(instance_id=primary_id, **payload), daemon=True,
                     name='failover-%s' % primary_id).start()
    return True


def check(manager):
    """One look at every highly available primary; returns those failed over."""
    started = []
    for primary_id in replicas.highly_available_primaries():
        try:
            reason, last_seen = failure(manager.driver, primary_id)
            if reason and start(manager, primary_id, reason, last_seen):
                started.append(primary_id)
        except exception.InstanceNotFound:
            continue
        except Exception:
            LOG.exception('Checking primary %s for a failover failed', primary_id)
    return started
