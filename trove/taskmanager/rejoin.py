"""Old primaries rejoin their replica set after a failover, by themselves.

After a failover (flows/failover.py) the old primary is recorded as a
replica of the new one, but it is down: fenced (engine stopped, server
powered off) or dead with its host.  Its guest keeps a down engine down
(the failover guard, flows/high_availability.py), so it never comes back
as a second writer.  Every ``[failover] rejoin_interval`` seconds the one
taskmanager leading the job ``failover-rejoin`` looks at each completed
failover whose old primary has not rejoined (``failovers.rejoin`` None):

* the old primary was deleted, or is no longer a replica of the new primary
  (the set was changed since): nothing to do (``not needed``);
* either of the two has a task running: it waits;
* the old primary's server is down (the fence powered it off, or its host
  died): it is powered on;
* once the old primary's guest answers, it follows the new primary (guest
  ``demote_to_replica``: MariaDB by GTID from what it has, started
  read-only; PostgreSQL pg_rewind, else a base backup), the set's settings
  are pushed again (a synchronous set has a follower again) and the record
  and the old primary's fault say when it rejoined.

A failed attempt is recorded and retried every ``rejoin_interval`` seconds,
up to ``rejoin_attempts`` times; then the rejoin ``failed`` with a fault.
The work is idempotent: after a taskmanager dies, the next leader goes on.
"""
from oslo_log import log as logging

from trove.common import context as trove_context
from trove.common import exception
from trove.common import states
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import failovers
from trove.db import models
from trove.guestagent import rpcapi as guest_rpcapi
from trove.taskmanager.flows import failover as failover_flow
from trove.taskmanager.flows import high_availability
from trove.taskmanager.flows import replication
from trove.taskmanager.flows import restart as restart_flow

LOG = logging.getLogger(__name__)
Task = states.InstanceTask


def _busy(inst):
    return Task.from_code(inst.task_id) is not Task.NONE


def _answers(context, instance_id):
    try:
        guest_rpcapi.GuestAPI(context, instance_id).get_status(
            timeout=CONF.failover.confirm_timeout)
    except Exception:
        return False
    return True


def _not_needed(record, why):
    LOG.info('Old primary %s need not rejoin: %s', record.old_primary_id, why)
    failovers.end_rejoin(record.id, failovers.NOT_NEEDED, why)


def _failed(record, text):
    attempts = failovers.rejoin_failed_once(record.id, text)
    if attempts < CONF.failover.rejoin_attempts:
        LOG.warning('Rejoin of %s failed (attempt %d): %s', record.old_primary_id,
                    attempts, text)
        return
    fault = ('Rejoining the replica set of %s failed %d times: %s. This instance stays '
             'down; rebuild or delete it.' % (record.new_primary_id, attempts, text))
    LOG.error('%s', fault)
    failovers.end_rejoin(record.id, failovers.FAILED, fault)
    db_api.save_fault(record.old_primary_id, fault)


def rejoin(context, driver, record):
    """One step of the rejoin of ``record``'s old primary; True once it rejoined."""
    try:
        old = db_api.get_instance(record.old_primary_id)
    except exception.InstanceNotFound:
        _not_needed(record, 'it was deleted')
        return False
    if old.slave_of_id != record.new_primary_id:
        _not_needed(record, 'it is no longer a replica of %s' % record.new_primary_id)
        return False
    try:
        new = db_api.get_instance(record.new_primary_id)
    except exception.InstanceNotFound:
        _not_needed(record, 'the new primary %s was deleted' % record.new_primary_id)
        return False
    if _busy(old) or _busy(new):
        return False
    if failover_flow.server_problem(driver, old):
        try:
            driver.power_on_server(old.compute_instance_id)
            LOG.info('Powered on the server of old primary %s to rejoin it', old.id)
        except Exception as exc:
            _failed(record, 'powering on its server failed: %s'
                    % restart_flow._error_text(exc))
        return False
    if not _answers(context, old.id):
        return False
    failed = replication.repoint(context, new, [old.id])
    if failed:
        fault = db_api.get_fault(old.id)
        _failed(record, fault.message if fault else 'it could not follow the new primary')
        return False
    high_availability.apply(context, new.id, driver)
    restart_flow.refresh_status(guest_rpcapi.GuestAPI(context, old.id), old.id)
    detail = 'Rejoined as a replica of %s at %s.' % (new.id,
                                                     failover_flow._stamp(models.utcnow()))
    failovers.end_rejoin(record.id, failovers.REJOINED, detail)
    db_api.save_fault(old.id, '%s %s' % (record.detail or '', detail))
    LOG.warning('Old primary %s rejoined the replica set of %s', old.id, new.id)
    return True


def check(manager):
    """One look at every pending rejoin; returns the old primaries that rejoined."""
    context = trove_context.admin_context()
    done = []
    for record in failovers.pending_rejoins():
        try:
            if rejoin(context, manager.driver, record):
                done.append(record.old_primary_id)
        except Exception as exc:
            LOG.exception('Rejoin of %s failed', record.old_primary_id)
            _failed(record, restart_flow._error_text(exc))
    return done
