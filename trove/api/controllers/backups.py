"""Backups: list, show, create and delete.

Create checks the instance can act, reserves quota (backups +1), inserts the
backup in NEW (refused while another backup of the instance runs) and casts
``create_backup``; the guest reports progress through the conductor.
Delete removes the backup and every incremental built on it (their objects
first, in the taskmanager).
"""
import datetime

from oslo_log import log as logging

from trove.api import links, middleware, wsgi
from trove.api.schemas import backups as schemas
from trove.api.views import backups as views
from trove.backup import info as backup_info
from trove.backup import requests
from trove.common import exception, policy, readiness
from trove.common.states import BackupState
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import datastores, models

LOG = logging.getLogger(__name__)


def get_taskmanager(context):
    """The taskmanager client used for ``context``; tests replace this hook."""
    from trove.taskmanager.rpcapi import TaskManagerAPI
    return TaskManagerAPI(context)


ServiceUnavailable = requests.ServiceUnavailable


def _version_info(cache, version_id):
    if version_id not in cache:
        try:
            version = datastores.get_version_by_id(version_id)
            cache[version_id] = (datastores.get_datastore(version.datastore_id), version)
        except exception.NotFound:
            cache[version_id] = (None, None)
    return cache[version_id]


def render(row, cache=None):
    """The view of one backup row, with its datastore."""
    cache = {} if cache is None else cache
    ds, version = _version_info(cache, row.datastore_version_id)
    return views.backup_view(row, ds, version)


# An SQL OFFSET must fit the database's integer.
_MAX_OFFSET = 2 ** 31 - 1


def _offset(marker):
    """The integer offset a backup-list marker stands for; 400 unless 0..2**31-1."""
    if not marker:
        return 0
    if not (marker.isascii() and marker.isdigit()) or int(marker) > _MAX_OFFSET:
        raise exception.BadRequest(detail='marker must be a non-negative integer offset')
    return int(marker)


def list_page(req, tenant_id, instance_id=None, version_ids=None):
    """One page of backups, newest ``updated`` first; marker = integer offset."""
    context = middleware.get_context(req)
    page = CONF.backup.backups_page_size
    limit = min(context.limit, page) if context.limit and context.limit > 0 else page
    offset = _offset(context.marker)
    rows = db_backups.list_backups(tenant_id, instance_id, version_ids, limit + 1, offset)
    more, rows = len(rows) > limit, rows[:limit]
    cache = {}
    body = {'backups': [render(r, cache) for r in rows]}
    if more:
        body['links'] = links.next_page_link(req, str(offset + limit))
    return body


def _incremental(data):
    return data.get('incremental') in (1, True)


class BackupController:
    """``/{tenant}/backups[...]``."""

    schemas = {'create': schemas.create}

    def index(self, req, tenant_id):
        context = middleware.get_context(req)
        params = req.GET
        project = context.project_id
        policy.authorize(context, 'backup:index')
        if params.get('all_projects') or params.get('project_id'):
            policy.authorize(context, 'backup:index:all_projects')
            project = params.get('project_id') or None
        version_ids = None
        if params.get('datastore'):
            ds = datastores.get_datastore(params['datastore'])
            version_ids = [v.id for v in datastores.list_versions(ds.id, only_active=False)]
        return list_page(req, project, params.get('instance_id'), version_ids)

    def show(self, req, tenant_id, id):
        context = middleware.get_context(req)
        row = db_backups.get_backup(id, context.owner)
        policy.authorize(context, 'backup:show', row.tenant_id)
        return {'backup': render(row)}

    def create(self, req, tenant_id, body):
        context = middleware.get_context(req)
        policy.authorize(context, 'backup:create')
        data = body['backup']
        if data.get('restore_from'):
            raise exception.BadRequest(detail='importing backups (restore_from) is not '
                                              'supported')
        driver = data.get('storage_driver') or CONF.backup.storage_driver
        if driver != CONF.backup.storage_driver:
            raise exception.BadRequest(detail='storage driver %s is not available; this '
                                              'service stores backups with %s'
                                       % (driver, CONF.backup.storage_driver))
        inst = db_api.get_instance(data['instance'], context.owner)
        readiness.check_actionable(inst)
        version = datastores.get_version_by_id(inst.datastore_version_id)
        ds = datastores.get_datastore(version.datastore_id)
        if version.manager not in backup_info.SUPPORTED_MANAGERS:
            raise exception.DatastoreOperationNotSupported(operation='backup',
                                                           datastore=ds.name)
        if (_incremental(data) or data.get('parent_id')) and \
                version.manager not in backup_info.INCREMENTAL_MANAGERS:
            raise exception.BadRequest(detail='incremental backups are not supported for '
                                              'the %s datastore; take a full backup' % ds.name)
        parent = self._parent(data, inst)
        container = data.get('swift_container') or db_backups.container_for(
            context.project_id, inst.id, CONF.backup.swift_container)
        row = requests.request_backup(
            get_taskmanager(context), context.project_id, inst, data['name'],
            description=data.get('description'), parent=parent, driver=driver,
            container=container)
        return wsgi.Result({'backup': render(row)}, status=202)

    def _parent(self, data, inst):
        if data.get('parent_id'):
            parent = db_backups.get_backup(data['parent_id'], inst.tenant_id)
            if parent.instance_id != inst.id:
                raise exception.BadRequest(detail='parent backup %s is not a backup of '
                                                  'instance %s' % (parent.id, inst.id))
        elif _incremental(data):
            # As upstream: on the newest completed backup, else a full one.
            parent = db_backups.last_completed(inst.id)
            if parent is None:
                return None
        else:
            return None
        if parent.state != BackupState.COMPLETED:
            raise exception.BackupNotCompleteError(backup_id=parent.id, state=parent.state)
        return parent

    def delete(self, req, tenant_id, id):
        context = middleware.get_context(req)
        row = db_backups.get_backup(id, context.owner)
        policy.authorize(context, 'backup:delete', row.tenant_id)
        doomed = [row] + db_backups.descendants(row.id)
        expiry = datetime.timedelta(seconds=CONF.backup.running_backups_expires)
        for item in doomed:
            if item.state in BackupState.RUNNING and (
                    models.utcnow() - item.created < expiry):
                raise exception.UnprocessableEntity(
                    detail='backup %s is still running; delete it once it has '
                           'finished' % item.id)

        # A second request while one is on its way changes nothing (the
        # quota is given back once).
        requests.request_delete(get_taskmanager(context), context.project_id, row)
        return wsgi.Result(status=202)

    def instance_index(self, req, tenant_id, id):
        """``GET /instances/{id}/backups``."""
        context = middleware.get_context(req)
        inst = db_api.get_instance(id, context.owner)
        policy.authorize(context, 'instance:backups', inst.tenant_id)
        return list_page(req, context.project_id, instance_id=id)


def validate_restore_point(context, restore_point, datastore, version, volume_size):
    """The backup id of an instance create's ``restorePoint``, or None.

    The backup must be the caller's, COMPLETED (409), of the same datastore
    (400) and no larger than the new volume (403).
    """
    if not restore_point:
        return None
    row = db_backups.get_backup(restore_point['backupRef'], context.owner)
    if row.state != BackupState.COMPLETED:
        raise exception.BackupNotCompleteError(backup_id=row.id, state=row.state)
    source_ds, _source_version = _version_info({}, row.datastore_version_id)
    if source_ds is None or source_ds.id != datastore.id:
        raise exception.BackupDatastoreMismatchError(
            datastore1=source_ds.name if source_ds else 'unknown', datastore2=datastore.name)
    if volume_size and row.size and row.size > volume_size:
        raise exception.BackupTooLarge(backup_size=row.size, disk_size=volume_size)
    return row.id
