"""Replication topology work: build a replica, detach, promote, eject.

A replica set is a primary and the instances whose ``slave_of_id`` points at
it (db/replicas.py keeps the set's replication user, encrypted).  The engine
side is the guest's replication interface (guestagent/engines/*/replication.py
through the 1.5 guest RPC).

* create_replica: the replica's build (flows/create.py) restores a snapshot
  of the primary, a backup taken for the purpose; once its guest runs it
  attaches to the primary's stream (read-only) before the build completes;
  the snapshot is deleted afterwards.  A failed attach ends the build in
  BUILDING_ERROR_REPLICA with the engine's reason.
* detach: the replica stops following and becomes a writable standalone.
* promote (planned switchover, nothing lost): stop writes on the primary,
  wait until the chosen replica has applied the primary's last position,
  promote it, demote the old primary into a replica of it, re-point the
  other replicas.
* eject (the primary is gone): elect the replica with the most advanced
  position, promote it, re-point the rest; the old primary stays out of
  the set (detached) until an operator repairs or deletes it.
"""
import base64
import time

from oslo_log import log as logging

from trove.common import exception, positions
from trove.common import states
from trove.common.states import BackupState
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import datastores
from trove.db import replicas
from trove.db import task_requests
from trove.guestagent import rpcapi as guest_rpcapi
from trove.taskmanager.flows import access
from trove.taskmanager.flows import backup as backup_flow
from trove.taskmanager.flows import create
from trove.taskmanager.flows import high_availability
from trove.taskmanager.flows import restart as restart_flow
from trove.taskmanager.flows import writer
from trove.backup import info as backup_info

LOG = logging.getLogger(__name__)
Task = states.InstanceTask


def _guest(context, instance_id):
    return guest_rpcapi.GuestAPI(context, instance_id)


def _endpoint(inst):
    """``(host, port)`` of an instance's engine."""
    version = datastores.get_version_by_id(inst.datastore_version_id)
    return inst.hostname, access.datastore_port(version.manager)


def slot_name(replica_id):
    """The primary's replication slot of a replica (PostgreSQL; others ignore it)."""
    return 'trove_%s' % replica_id.replace('-', '_')


# -- building a replica ----------------------------------------------------------

def _snapshot(context, primary, replica_id):
    """A full backup of the primary, COMPLETED, for the replica to restore."""
    version = datastores.get_version_by_id(primary.datastore_version_id)
    deadline = time.time() + CONF.agent_replication_snapshot_timeout
    waiting = False
    while True:
        try:
            row = db_backups.create_backup(dict(
                name='replica snapshot for %s' % replica_id, tenant_id=primary.tenant_id,
                instance_id=primary.id, backup_type='full',
                datastore_version_id=version.id, storage_driver=CONF.backup.storage_driver))
            break
        except exception.UnprocessableEntity as exc:
            # Another backup of the primary runs (a sibling replica's
            # snapshot): wait for it, saying so once.
            if not waiting:
                LOG.info('Replica %s waits for the snapshot: %s', replica_id, exc.msg)
                waiting = True
            if time.time() > deadline:
                raise create.BuildError(Task.BUILDING_ERROR_REPLICA,
                                        'No snapshot of the primary: %s' % exc.msg)
            time.sleep(CONF.usage_sleep_time)
    backup_flow.create_backup(context, backup_info.info_for(row), primary.id)
    while time.time() < deadline:
        state = db_backups.get_backup(row.id).state
        if state == BackupState.COMPLETED:
            return row.id
        if state in BackupState.END:
            break
        time.sleep(CONF.usage_sleep_time)
    raise create.BuildError(Task.BUILDING_ERROR_REPLICA,
                            'The snapshot of primary %s did not complete.' % primary.id)


def attach(context, replica_id, primary):
    """Point the replica's engine at ``primary``'s stream (read-only)."""
    user, password = replicas.credentials(primary.id)
    host, port = _endpoint(primary)
    primary_guest = _guest(context, primary.id)
    # PostgreSQL lets the replication user in from the replica's address only.
    primary_guest.ensure_replication_user(
        user=user, password=password,
        replica_host=db_api.get_instance(replica_id).hostname)
    primary_guest.create_replication_slot(name=slot_name(replica_id))
    # The primary's clients must get in here too (Redis keeps its password
    # in configuration, which does not replicate).
    auth = primary_guest.get_client_auth()
    if auth:
        _guest(context, replica_id).set_client_auth(auth=auth)
    _guest(context, replica_id).attach_replica(
        primary_host=host, primary_port=port, user=user, password=password,
        slot=slot_name(replica_id))
    LOG.info('Replica %s follows %s at %s:%s', replica_id, primary.id, host, port)


def _take_snapshot(context, primary_id, replica_id):
    """Replication user and snapshot backup of the primary; returns the backup id."""
    primary = db_api.get_instance(primary_id)
    user, password = replicas.credentials(primary.id)
    try:
        guest = _guest(context, primary.id)
        guest.ensure_replication_user(user=user, password=password)
        # Before the snapshot (PostgreSQL): the slot keeps every WAL segment
        # the copy will need from the moment the backup starts.
        guest.create_replication_slot(name=slot_name(replica_id))
        return _snapshot(context, primary, replica_id)
    except create.BuildError:
        raise
    except Exception as exc:
        LOG.exception('Snapshot for replica %s failed', replica_id)
        raise create.BuildError(Task.BUILDING_ERROR_REPLICA, 'No snapshot of the primary: %s'
                                % restart_flow._error_text(exc))


def create_replica(context, driver, req, primary_id, tls=None):
    """Build replica ``req.instance_id`` of ``primary_id`` (a CreateRequest);
    ``tls`` is the primary's TLS the replica serves too (see apply_tls)."""
    req.replica = True
    try:
        req.backup_id = _take_snapshot(context, primary_id, req.instance_id)
    except create.BuildError as exc:
        create._fail(req.instance_id, exc.task, exc.message)
        task_requests.finish(req.instance_id, action='create_replica')
        return

    def _attach(inst):
        try:
            attach(context, inst.id, db_api.get_instance(primary_id))
            if tls:
                apply_tls(context, inst.id, tls)
            setting = replicas.high_availability(primary_id)
            if setting['enabled'] or setting['synchronous']:
                high_availability.apply(context, primary_id, driver)
        except Exception as exc:
            raise create.BuildError(Task.BUILDING_ERROR_REPLICA, 'Attaching to primary %s '
                                    'failed: %s' % (primary_id, restart_flow._error_text(exc)))
    try:
        create.create_instance(context, driver, req, after_running=_attach,
                               action='create_replica')
    finally:
        backup_flow.delete_backup(context, req.backup_id)


def apply_tls(context, replica_id, tls):
    """The new replica serves its primary's certificate in its mode
    (restarted when the engine needs it) and records the refs; the API
    registered it as a consumer of them when it took the request."""
    guest = _guest(context, replica_id)
    answer = guest.ssl_apply(mode=tls['mode'], p12=base64.b64decode(tls['p12']),
                             password=tls.get('password'))
    if answer.get('restart_required'):
        guest.restart()
    db_api.update_instance(replica_id, ssl_mode=answer['mode'], ssl_ref=tls['ssl_ref'],
                           ssl_password_ref=tls.get('password_ref'))
    LOG.info('Replica %s serves the TLS of its primary (mode %s)', replica_id,
             answer['mode'])


# -- changing the topology ---------------------------------------------------------

def _end(instance_id, task, fault, action):
    restart_flow.finish(instance_id, task, fault, action=action)


def detach(context, replica_id):
    """The replica stops following its primary and becomes a standalone (DETACHING)."""
    fault = None
    try:
        inst = db_api.get_instance(replica_id)
        primary_id = inst.slave_of_id
        _guest(context, replica_id).detach_replica()
        replicas.detach(replica_id)
        if primary_id:
            try:
                _guest(context, primary_id).drop_replication_slot(name=slot_name(replica_id))
            except Exception as exc:
                LOG.warning('Could not drop the slot of %s on %s: %s', replica_id,
                            primary_id, exc)
        LOG.info('Replica %s detached from %s', replica_id, primary_id)
    except Exception as exc:
        LOG.exception('Detaching %s failed', replica_id)
        fault = 'Detaching from the primary failed: %s' % restart_flow._error_text(exc)
    _end(replica_id, Task.DETACHING, fault, 'detach_replica')


def repoint(context, new_primary, others):
    """Every other member follows the new primary; returns the ones that failed."""
    failed = []
    user, password = replicas.credentials(new_primary.id)
    host, port = _endpoint(new_primary)
    for replica_id in others:
        try:
            # From what it has applied (demote), not from its original snapshot.
            _guest(context, new_primary.id).ensure_replication_user(
                user=user, password=password,
                replica_host=db_api.get_instance(replica_id).hostname)
            _guest(context, new_primary.id).create_replication_slot(
                name=slot_name(replica_id))
            _guest(context, replica_id).demote_to_replica(
                primary_host=host, primary_port=port, user=user, password=password,
                slot=slot_name(replica_id))
        except Exception as exc:
            LOG.exception('Re-pointing %s to %s failed', replica_id, new_primary.id)
            db_api.save_fault(replica_id, 'Re-pointing to the new primary %s failed: %s'
                              % (new_primary.id, restart_flow._error_text(exc)))
            failed.append(replica_id)
    return failed


def promote(context, replica_id, driver=None):
    """Planned switchover to ``replica_id`` (PROMOTING); nothing committed is lost."""
    fault = None
    try:
        replica = db_api.get_instance(replica_id)
        old_id = replica.slave_of_id
        old = db_api.get_instance(old_id)
        old_guest, new_guest = _guest(context, old_id), _guest(context, replica_id)
        old_guest.set_read_only(read_only=True)
        position = old_guest.get_replication_position()
        if not new_guest.wait_for_position(position=position,
                                           timeout=CONF.agent_replication_snapshot_timeout):
            old_guest.set_read_only(read_only=False)
            raise RuntimeError('the replica did not catch up with the primary; '
                               'nothing was changed')
        new_guest.promote_to_primary()
        set_id, _ = replicas.writer_of(old_id)
        writer.move(driver, set_id, replica_id)
        others = [r for r in replicas.replica_ids(old_id) if r != replica_id]
        replicas.set_primary(old_id, replica_id, others + [old_id])
        new_primary = db_api.get_instance(replica_id)
        user, password = replicas.credentials(replica_id)
        new_guest.ensure_replication_user(user=user, password=password,
                                          replica_host=old.hostname)
        new_guest.create_replication_slot(name=slot_name(old_id))
        host, port = _endpoint(new_primary)
        old_guest.demote_to_replica(primary_host=host, primary_port=port, user=user,
                                    password=password, slot=slot_name(old_id))
        failed = repoint(context, new_primary, others)
        LOG.info('Instance %s promoted; %s now follows it', replica_id, old.id)
        if failed:
            fault = 'Promoted, but %s could not follow the new primary.' % ', '.join(failed)
    except Exception as exc:
        LOG.exception('Promoting %s failed', replica_id)
        fault = 'Promotion failed: %s' % restart_flow._error_text(exc)
    _end(replica_id, Task.PROMOTING, fault, 'promote_to_replica_source')


def _most_advanced(context, candidates, manager):
    """The replica whose applied position is the furthest."""
    compare = positions.comparator(manager)
    best, best_pos = None, None
    for replica_id in candidates:
        try:
            pos = _guest(context, replica_id).get_replication_position()
        except Exception as exc:
            LOG.warning('No position from %s: %s', replica_id, exc)
            continue
        if not pos:
            LOG.warning('Replica %s has no position to compare', replica_id)
            continue
        if best is None or compare(pos, best_pos) > 0:
            best, best_pos = replica_id, pos
    return best


def take_over(context, primary_id, members, promoted=None):
    """The most advanced of ``members`` becomes the primary of the set of
    ``primary_id`` (which is gone or fenced); the others follow it.
    ``promoted(chosen)`` is called once the chosen one takes writes.

    Returns ``(chosen, members that could not follow)``; RuntimeError when
    no member answered with its position.
    """
    manager = datastores.get_version_by_id(
        db_api.get_instance(primary_id).datastore_version_id).manager
    chosen = _most_advanced(context, members, manager)
    if chosen is None:
        raise RuntimeError('no replica answered with its position')
    _guest(context, chosen).promote_to_primary()
    if promoted is not None:
        promoted(chosen)
    others = [r for r in members if r != chosen]
    replicas.set_primary(primary_id, chosen, others)
    return chosen, repoint(context, db_api.get_instance(chosen), others)


def eject(context, primary_id, driver=None):
    """The primary is gone (EJECTING): the most advanced replica takes over."""
    fault = None
    try:
        set_id, _ = replicas.writer_of(primary_id)
        chosen, failed = take_over(context, primary_id, replicas.replica_ids(primary_id),
                                   promoted=lambda new: writer.move(driver, set_id, new))
        LOG.warning('Primary %s ejected; %s took over', primary_id, chosen)
        if failed:
            fault = 'Ejected; %s could not follow the new primary %s.' % (
                ', '.join(failed), chosen)
    except Exception as exc:
        LOG.exception('Ejecting %s failed', primary_id)
        fault = 'Ejecting the replica source failed: %s' % restart_flow._error_text(exc)
    _end(primary_id, Task.EJECTING, fault, 'eject_replica_source')
