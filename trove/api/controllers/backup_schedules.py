"""Backup schedules of an instance: ``/{tenant}/instances/{id}/backup_schedules``.

``POST`` ``{"backup_schedule": {"name", "pattern", "full_every", "retention":
{"count", "days"}}}`` makes one (the taskmanager runs it, see
trove.taskmanager.backup_schedules); ``GET`` lists or shows them with their
next slot; ``DELETE`` removes one (its backups stay, no longer pruned).
"""
from trove.api import links, middleware, wsgi
from trove.api.schemas import backups as schemas
from trove.backup import info as backup_info
from trove.backup import schedule as policy_of
from trove.common import exception, policy
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backup_schedules
from trove.db import datastores
from trove.db import models


def view(row, now=None):
    now = now or models.utcnow()
    return {
        'id': row.id, 'instance_id': row.instance_id, 'name': row.name,
        'pattern': row.pattern, 'full_every': row.full_every,
        'retention': {'count': row.keep_count, 'days': row.keep_days},
        'created': links.isotime(row.created), 'last_run': links.isotime(row.last_slot),
        'next_run': links.isotime(policy_of.next_slot(row.pattern, max(
            now, row.last_slot or row.created))),
        'runs': row.runs, 'last_backup_id': row.last_backup_id,
        'last_error': row.last_error,
    }


class BackupScheduleController:

    schemas = {'create': schemas.schedule_create}

    @staticmethod
    def _instance(req, id, rule):
        context = middleware.get_context(req)
        inst = db_api.get_instance(id, context.owner)
        policy.authorize(context, 'instance:%s' % rule, inst.tenant_id)
        return context, inst

    def index(self, req, tenant_id, id):
        _context, inst = self._instance(req, id, 'backup_schedule_index')
        return {'backup_schedules': [view(r) for r in
                                     backup_schedules.list_schedules(inst.id)]}

    def show(self, req, tenant_id, id, schedule_id):
        _context, inst = self._instance(req, id, 'backup_schedule_show')
        return {'backup_schedule': view(backup_schedules.get(schedule_id, inst.id))}

    def create(self, req, tenant_id, id, body):
        context, inst = self._instance(req, id, 'backup_schedule_create')
        data = body['backup_schedule']
        pattern = policy_of.check_pattern(data['pattern'])
        version = datastores.get_version_by_id(inst.datastore_version_id)
        if version.manager not in backup_info.SUPPORTED_MANAGERS:
            raise exception.DatastoreOperationNotSupported(operation='backup',
                                                           datastore=version.manager)
        full_every = data.get('full_every', 1)
        if full_every > 1 and version.manager not in backup_info.INCREMENTAL_MANAGERS:
            raise exception.BadRequest(detail='incremental backups are not supported for '
                                              'the %s datastore; full_every must be 1'
                                       % version.manager)
        if inst.slave_of_id:
            raise exception.BadRequest(detail='schedule the backups of the primary, not '
                                              'of a replica')
        if backup_schedules.count(inst.id) >= CONF.backup.schedules_per_instance:
            raise exception.BadRequest(detail='instance %s has %d backup schedules already'
                                       % (inst.id, CONF.backup.schedules_per_instance))
        retention = data.get('retention') or {}
        row = backup_schedules.create(context.project_id, inst.id, data['name'], pattern,
                                      full_every, retention.get('count'),
                                      retention.get('days'))
        return wsgi.Result({'backup_schedule': view(row)}, status=201)

    def delete(self, req, tenant_id, id, schedule_id):
        _context, inst = self._instance(req, id, 'backup_schedule_delete')
        backup_schedules.get(schedule_id, inst.id)
        backup_schedules.delete(schedule_id)
        return wsgi.Result(status=202)
