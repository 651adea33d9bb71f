"""Point-in-time recovery in the API: turn the archive on/off, show the window,
resolve a ``restorePoint`` with ``restoreTime``.

The rules of the window live in trove.backup.pitr; the state in
``instance_pitr`` (trove.db.pitr); the taskmanager makes the guest follow
(trove.taskmanager.flows.pitr).  PITR_MANAGERS there is the one list of
the datastores that can do it.  Replicas are refused: the archive is the
primary's (a promoted replica is turned on with a PUT).
"""
from oslo_log import log as logging

from trove.api.controllers import backups
from trove.backup import pitr
from trove.common import exception, readiness
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import datastores
from trove.db import pitr as db_pitr

LOG = logging.getLogger(__name__)


def _refuse_replica():
    raise exception.BadRequest(detail='point-in-time recovery is turned on for a '
                                      'primary, not a replica')


def requested(data, manager):
    """Whether a create asks for archiving; 400 for a replica or an engine without it."""
    spec = data.get('pitr')
    if not spec or not spec.get('enabled'):
        return False
    if data.get('replica_of'):
        _refuse_replica()
    pitr.refuse_unsupported(manager)
    return True


def record_on_create(session, inst_id, tenant_id):
    """The create's wish, in the instance's own transaction."""
    db_pitr.request(inst_id, True, _container(tenant_id, inst_id),
                    CONF.backup.storage_driver, session=session)


def _container(tenant_id, inst_id):
    return db_backups.container_for(tenant_id, inst_id, CONF.backup.swift_container)


def check_update(inst, spec):
    """PUT ``pitr``: 400 for a replica or an engine without it, 422 unless the
    instance can act."""
    if spec['enabled']:
        if inst.slave_of_id:
            _refuse_replica()
        pitr.refuse_unsupported(datastores.get_version_by_id(inst.datastore_version_id).manager)
    readiness.check_actionable(inst)


def update(inst, spec, tm):
    """Record a checked PUT ``pitr`` and have the taskmanager apply it."""
    enabled = spec['enabled']
    db_pitr.request(inst.id, enabled, _container(inst.tenant_id, inst.id),
                    CONF.backup.storage_driver)
    LOG.info('Instance %s point-in-time recovery %s requested', inst.id,
             'on' if enabled else 'off')
    tm.apply_pitr(instance_id=inst.id)


def _backups(instance_id):
    return [pitr.FullBackup(id=b.id, started=b.created, finished=b.updated,
                            parent_id=b.parent_id)
            for b in db_pitr.restorable_backups(instance_id)]


def view(inst):
    """``{enabled, earliest_restorable_time, latest_restorable_time}``."""
    row = db_pitr.get(inst.id)
    if row is None or not row.enabled:
        return dict(enabled=False, **pitr.Window(None, None).to_dict())
    return dict(enabled=True, **pitr.window(_backups(inst.id), row.since, row.latest).to_dict())


def _source(context, point):
    if 'instanceRef' in point:
        return db_api.get_instance(point['instanceRef'], context.owner)
    row = db_backups.get_backup(point['backupRef'], context.owner)
    try:
        return db_api.get_instance(row.instance_id, context.owner)
    except exception.InstanceNotFound:
        # A deleted instance's archive is kept while its backups are
        # (trove.taskmanager.archive_retention): its window still serves.
        return db_api.get_instance(row.instance_id, context.owner, deleted=True)


def restore_point(context, point, datastore, version, volume_size):
    """(backup_id, pitr) of a create's ``restorePoint``; pitr None without
    ``restoreTime``.  400 for a bad time, a time outside the source's window
    or an engine without an archive; 404 for an unknown source."""
    if not point or 'restoreTime' not in point:
        return backups.validate_restore_point(context, point, datastore, version,
                                              volume_size), None
    when = pitr.parse_restore_time(point['restoreTime'])
    source = _source(context, point)
    manager = datastores.get_version_by_id(source.datastore_version_id).manager
    pitr.refuse_unsupported(manager)
    row = db_pitr.get(source.id)
    since, latest = (row.since, row.latest) if row is not None and row.enabled else (None,
                                                                                    None)
    chosen = pitr.choose_backup(_backups(source.id), since, latest, when,
                                incremental=manager in pitr.CHAIN_BASE_MANAGERS)
    backup_id = backups.validate_restore_point(context, {'backupRef': chosen.id},
                                               datastore, version, volume_size)
    LOG.info('Restore of %s to %s from backup %s and archive %s', source.id,
             when.isoformat(), backup_id, row.prefix)
    return backup_id, {'restore_time': when.isoformat(), 'container': row.container,
                       'prefix': row.prefix, 'storage_driver': row.storage_driver}
