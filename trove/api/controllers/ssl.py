"""TLS of an instance's database: ``/{tenant}/instances/{id}/ssl``.

``GET`` shows ``status`` on/off, ``mode`` (basic, enforced, mtls) and facts
of the served certificate (the PEM itself with ``?include_certificate``).
``POST`` enables TLS from the user's PKCS#12 container in the key manager
(with an optional password secret), disables it or rolls back to the state
before the last change.  The API reads the secrets with the user's token,
hands them to the guest inside its sealed RPC, and registers the instance
as a consumer of the secrets it uses (removed when it stops using them).
The guest validates the container before it changes anything, so bad input
is a 4xx that changes nothing.  The answers carry ``restart_required``;
when it is true the instance shows RESTART_REQUIRED until it restarts.

The instance row keeps the mode, the refs and the previous state (the
guest keeps the previous files), which is what rollback swaps back.
"""
import json

from oslo_log import log as logging
from oslo_utils import strutils

from trove.api.controllers import guest_access
from trove.api.schemas import ssl as schemas
from trove.common import exception, key_manager, states
from trove.db import api as db_api

LOG = logging.getLogger(__name__)
_STATUSES = ('ACTIVE', 'RESTART_REQUIRED')


def _state(inst):
    """The TLS state of the instance row: ``{mode, ssl_ref, password_ref}``."""
    return {'mode': inst.ssl_mode, 'ssl_ref': inst.ssl_ref,
            'password_ref': inst.ssl_password_ref}


def _refs(state):
    return {r for r in (state.get('ssl_ref'), state.get('password_ref')) if r}


class SSLController:
    """``GET`` and ``POST`` of ``/instances/{id}/ssl``."""

    schemas = {'create': schemas.action}

    def index(self, req, tenant_id, id):
        _context, _inst, guest = guest_access.ready_guest(req, id, rule='instance:ssl_show',
                                                         statuses=_STATUSES)
        include = strutils.bool_from_string(req.params.get('include_certificate', 'false'))
        return {'ssl': guest.ssl_show(include_certificate=include)}

    def create(self, req, tenant_id, id, body):
        body = body['ssl']
        chosen = [a for a in schemas.ACTIONS if body.get(a)]
        if len(chosen) != 1:
            raise exception.BadRequest(detail='give exactly one of %s as true'
                                       % ', '.join(schemas.ACTIONS))
        if chosen[0] != 'enable' and set(body) - {chosen[0]}:
            raise exception.BadRequest(detail='%s takes no other field' % chosen[0])
        if chosen[0] == 'enable' and not body.get('container_ref'):
            raise exception.BadRequest(detail='enable needs container_ref')
        context, inst, guest = guest_access.ready_guest(req, id, rule='instance:ssl_action',
                                                         statuses=_STATUSES)
        old = _state(inst)
        if chosen[0] == 'enable':
            new, answer = self._enable(context, inst, guest, body)
        elif chosen[0] == 'disable':
            new, answer = {'mode': None, 'ssl_ref': None, 'password_ref': None}, \
                guest.ssl_disable()
        else:
            if inst.ssl_previous is None:
                raise exception.BadRequest(detail='there is no previous TLS state of '
                                           'instance %s to roll back to' % inst.id)
            new, answer = json.loads(inst.ssl_previous), guest.ssl_rollback()
        self._record(context, inst, old, new, chosen[0])
        if answer.get('restart_required'):
            db_api.set_task(inst.id, states.InstanceTask.RESTART_REQUIRED,
                            expected={states.InstanceTask.NONE,
                                      states.InstanceTask.RESTART_REQUIRED})
        return {'ssl': answer}

    def _enable(self, context, inst, guest, body):
        """Read the secrets, check the refs can be consumed, apply on the guest."""
        container_ref, password_ref = body['container_ref'], body.get('password_ref')
        secrets = key_manager.Secrets(context)
        payload = secrets.payload(container_ref)
        password = secrets.password(password_ref) if password_ref else None
        answer = guest.ssl_apply(mode=body.get('mode') or 'basic', p12=payload,
                                 password=password)
        return ({'mode': answer['mode'], 'ssl_ref': container_ref,
                 'password_ref': password_ref}, answer)

    def _record(self, context, inst, old, new, action):
        """Persist the new state (the old one kept for rollback, none after a
        rollback) and move the consumer registrations from old to new refs."""
        previous = None if action == 'rollback' else json.dumps(old)
        db_api.update_instance(inst.id, ssl_mode=new['mode'], ssl_ref=new['ssl_ref'],
                               ssl_password_ref=new['password_ref'], ssl_previous=previous)
        secrets = key_manager.Secrets(context)
        for ref in sorted(_refs(new) - _refs(old)):
            try:
                secrets.add_consumer(ref, inst.id)
            except exception.TroveError as exc:
                # The guest already serves the certificate; say so in the log
                # rather than fail a change that has happened.
                LOG.warning('Instance %s uses %s but is not its consumer: %s',
                            inst.id, ref, exc)
        for ref in sorted(_refs(old) - _refs(new)):
            secrets.remove_consumer(ref, inst.id)
        LOG.info('TLS of instance %s: %s (mode %s)', inst.id, action, new['mode'] or 'off')


def release_consumers(context, inst):
    """Remove the instance's consumer registrations (on delete)."""
    refs = _refs(_state(inst))
    if not refs:
        return
    secrets = key_manager.Secrets(context)
    for ref in sorted(refs):
        secrets.remove_consumer(ref, inst.id)
