"""The superuser of an instance: ``/{tenant}/instances/{instance_id}/root``.

Enabling records who did it in ``root_enabled_history``; disabling requires
that root was enabled before (404 RootHistoryNotFound otherwise, as upstream).
The generated or given password is returned once and never logged.
"""
from oslo_log import log as logging

from trove.api import wsgi
from trove.api.controllers import guest_access, replicas
from trove.api.schemas import users as schemas
from trove.db import root_history

LOG = logging.getLogger(__name__)


class RootController:
    """``GET`` (is enabled), ``POST`` (enable) and ``DELETE`` (disable)."""

    # Enabling takes no body, ``{}`` or ``{"password": ...}`` (as upstream).
    schemas = {'create': schemas.root_create}
    optional_bodies = frozenset({'create'})

    def index(self, req, tenant_id, instance_id):
        _context, _inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:root:index')
        return {'rootEnabled': bool(guest.is_root_enabled())}

    def create(self, req, tenant_id, instance_id, body=None):
        password = (body or {}).get('password')
        context, inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:root:create')
        if password is None:
            user = guest.enable_root()
        else:
            user = guest.enable_root_with_password(root_password=password)
        root_history.record(inst.id, context.user_id)
        replicas.share_client_auth(context, inst, guest)
        LOG.info('Root enabled on instance %s by user %s', inst.id, context.user_id)
        return {'user': {'name': user['name'], 'password': user['password']}}

    def delete(self, req, tenant_id, instance_id):
        context, inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:root:delete')
        root_history.get(inst.id)
        guest.disable_root()
        replicas.share_client_auth(context, inst, guest)
        LOG.info('Root disabled on instance %s', inst.id)
        return wsgi.Result(status=204)
