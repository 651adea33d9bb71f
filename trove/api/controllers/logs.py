"""Guest logs of an instance: ``/{tenant}/instances/{id}/log``.

``GET`` lists the logs, ``POST`` shows one (no action) or enables, disables,
publishes or discards it.  The guest does the work (trove.guestagent.guest_log);
this controller decides who sees what: SYS logs (the engine's error log, the
agent's own log) exist for administrators only, as upstream, so a non-admin
never sees them listed and gets 403 when naming one.
"""
from oslo_log import log as logging

from trove.api.controllers import guest_access
from trove.api.schemas import logs as schemas
from trove.common import exception

LOG = logging.getLogger(__name__)
SYS = 'SYS'


class LogController:
    """``GET`` and ``POST`` of ``/instances/{id}/log``."""

    schemas = {'create': schemas.action}

    def index(self, req, tenant_id, id):
        context, _inst, guest = guest_access.ready_guest(
            req, id, rule='instance:guest_log_list')
        logs = guest.guest_log_list()
        if not context.is_admin:
            logs = [log for log in logs if log['type'] != SYS]
        return {'logs': logs}

    def create(self, req, tenant_id, id, body):
        actions = {a: bool(body.get(a)) for a in schemas.ACTIONS}
        chosen = [a for a, on in actions.items() if on]
        if len(chosen) > 1:
            raise exception.BadRequest(detail='only one of %s may be given, not %s'
                                              % (', '.join(schemas.ACTIONS),
                                                 ' and '.join(chosen)))
        context, inst, guest = guest_access.ready_guest(
            req, id, rule='instance:guest_log_action')
        name = body['name']
        # Look the log up first: an unknown name is 404 and a SYS log is
        # refused before the guest does anything with it.
        found = [log for log in guest.guest_log_list() if log['name'] == name]
        if not found:
            raise exception.LogNotFound(log=name)
        if found[0]['type'] == SYS and not context.is_admin:
            raise exception.LogAccessForbidden(action=chosen[0] if chosen else 'show',
                                               log=name)
        if not chosen:
            return {'log': found[0]}
        log = guest.guest_log_action(log_name=name, **actions)
        LOG.info('Log %s of instance %s: %s', name, inst.id, chosen[0])
        return {'log': log}
