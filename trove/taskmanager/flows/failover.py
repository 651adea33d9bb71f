"""Automatic failover of a highly available replica set.

Started by the failover watch (trove.taskmanager.failover_watch) with the
old primary's task claimed EJECTING and the request stored as ``fail_over``
(so another taskmanager finishes it if this one dies):

1. fence the old primary so two writers never exist: its guest stops the
   engine (within ``[failover] fence_timeout``), or else the compute driver
   powers the server off.  Neither: no promotion, and the fault says so;
2. promote the replica with the most advanced position (the eject path of
   flows/replication.py) and record when it took writes;
3. re-point the other replicas at it; the old primary stays in the set as a
   replica of the new one, to follow it once it is back;
4. when the old primary archived for point-in-time recovery, the new one
   starts archiving (flows/pitr_failover.py);
5. the ``failovers`` record and the old primary's fault say what failed,
   when, who took over and how long it took.

Run again after a taskmanager died in it, it goes on from the record: a
promotion already made is not made again.
"""
import datetime

from oslo_log import log as logging

from trove.common import exception
from trove.common import states
from trove.compute import base
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import failovers
from trove.db import replicas
from trove.guestagent import rpcapi as guest_rpcapi
from trove.taskmanager.flows import pitr_failover, replication
from trove.taskmanager.flows import restart as restart_flow
from trove.taskmanager.flows import writer

LOG = logging.getLogger(__name__)
Task = states.InstanceTask
ACTION = 'fail_over'


class NotFenced(Exception):
    """The old primary could not be stopped for sure."""


def server_problem(driver, inst):
    """Why the instance's server cannot be running (gone, SHUTDOWN, ERROR),
    or None; also what the failover watch detects a dead host by."""
    if not inst.compute_instance_id:
        return None
    try:
        server = driver.get_server(inst.compute_instance_id)
    except exception.ComputeInstanceNotFound:
        return 'its server %s is gone' % inst.compute_instance_id
    if server.status in (base.SHUTDOWN, base.ERROR):
        return 'its server %s is %s' % (server.id, server.status)
    return None


def _power_off(driver, inst):
    try:
        driver.power_off_server(inst.compute_instance_id)
    except exception.ComputeInstanceNotFound:
        return 'its server is gone'
    except Exception as exc:
        raise NotFenced('powering off server %s failed: %s'
                        % (inst.compute_instance_id, restart_flow._error_text(exc)))
    return 'its server was powered off'


def fence(context, driver, inst, try_guest=True):
    """Stop the old primary for sure; returns how it was, raises NotFenced.

    A server that is down already, or whose guest is known not to answer
    (``try_guest`` False), is powered off; otherwise the guest gets
    ``fence_timeout`` seconds to stop the engine, then the server is
    powered off.
    """
    if inst.compute_instance_id and (not try_guest or server_problem(driver, inst)):
        return _power_off(driver, inst)
    try:
        guest_rpcapi.GuestAPI(context, inst.id).stop_db(timeout=CONF.failover.fence_timeout)
        return 'its guest stopped the engine'
    except Exception as exc:
        LOG.warning('The guest of %s did not stop its engine (%s); powering the server '
                    'off', inst.id, restart_flow._error_text(exc))
    if not inst.compute_instance_id:
        raise NotFenced('it has no server to power off and its guest does not answer')
    return _power_off(driver, inst)


def _suspend_synchronous(context, chosen, set_id):
    """A synchronous set (whose primary is ``set_id`` now) left without a
    follower: the new primary commits
    asynchronously (else every commit would wait for a replica that is not
    there) until a replica joins and gets the set's mode again."""
    if not replicas.high_availability(set_id)['synchronous']:
        return False
    try:
        guest_rpcapi.GuestAPI(context, chosen).set_synchronous(
            enabled=False, fallback_timeout=CONF.failover.synchronous_timeout)
    except Exception as exc:
        LOG.error('Could not suspend synchronous commits on %s: %s', chosen,
                  restart_flow._error_text(exc))
        return False
    LOG.warning('Synchronous replication suspended on %s: no replica follows it', chosen)
    return True


def _stamp(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value else 'unknown'


def _seconds(record):
    start = record.last_seen or record.started
    return (record.promoted - start).total_seconds() if record.promoted else None


def fail_over(context, driver, primary_id, reason, last_seen=None, guest_silent=False):
    """Run (or finish) the failover of ``primary_id``; always ends its EJECTING."""
    inst = db_api.get_instance(primary_id)
    record = failovers.running(primary_id)
    if record is None:
        seen = datetime.datetime.fromisoformat(last_seen) if last_seen else None
        failovers.start(inst.tenant_id, primary_id, reason, seen)
        record = failovers.running(primary_id)
    LOG.warning('Failing over replica set of %s: %s', primary_id, reason)
    fault, detail = None, None
    try:
        if record.new_primary_id is None:
            how = fence(context, driver, inst, try_guest=not guest_silent)
            LOG.info('Old primary %s fenced: %s', primary_id, how)
            members = replicas.replica_ids(primary_id)
            # A lone replica will have nobody to wait for: it commits
            # asynchronously from its first write as the primary.
            early = len(members) == 1 and _suspend_synchronous(context, members[0],
                                                               primary_id)
            set_id, _ = replicas.writer_of(primary_id)

            def promoted(new):
                failovers.promoted(record.id, new)
                writer.move(driver, set_id, new)
            chosen, failed = replication.take_over(context, primary_id, members,
                                                   promoted=promoted)
        else:
            how = 'fenced before a taskmanager restart'
            chosen = record.new_primary_id
            writer.move(driver, replicas.writer_of(chosen)[0], chosen)
            members = [chosen] + [r for r in replicas.replica_ids(chosen) if r != primary_id]
            failed = replication.repoint(context, db_api.get_instance(chosen), members[1:])
            early = False
        followers = [m for m in members if m not in failed and m != chosen]
        suspended = early or (not followers and _suspend_synchronous(context, chosen,
                                                                      chosen))
        # The old primary comes back as a replica of the new one.
        replicas.follow(primary_id, chosen)
        archiving = pitr_failover.follow(context, primary_id, chosen)
        record = failovers.get(record.id)
        took = _seconds(record)
        detail = ('Failed over at %s: %s. Instance %s took over and accepted writes %s '
                  'after the last heartbeat; this instance was fenced (%s) and is now '
                  'a replica of it.' % (_stamp(record.started), reason, chosen,
                                        '%.1f s' % took if took is not None else '?', how))
        if failed:
            detail += ' %s could not follow the new primary yet.' % ', '.join(failed)
        if suspended:
            detail += (' Synchronous replication is suspended until a replica follows '
                       'the new primary again.')
        if archiving:
            detail += (' Point-in-time recovery continues on %s (its window opens with '
                       'its first full backup); this instance\'s window stays '
                       'restorable.' % chosen)
        failovers.end(record.id, failovers.COMPLETED, detail)
        db_api.save_fault(primary_id, detail)
        LOG.warning('Replica set of %s failed over to %s in %s s', primary_id, chosen,
                    '%.1f' % took if took is not None else '?')
    except NotFenced as exc:
        fault = ('Automatic failover refused at %s: %s, and the old primary could not be '
                 'fenced (%s); no replica was promoted, so that two writers never exist.'
                 % (_stamp(record.started), reason, exc))
    except Exception as exc:
        LOG.exception('Failover of %s failed', primary_id)
        fault = 'Automatic failover failed at %s: %s (%s).' % (
            _stamp(record.started), restart_flow._error_text(exc), reason)
    if fault:
        LOG.error('%s', fault)
        failovers.end(record.id, failovers.FAILED, fault)
    restart_flow.finish(primary_id, Task.EJECTING, fault, action=ACTION)
