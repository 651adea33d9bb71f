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
import base64
import json

from oslo_log import log as logging
from oslo_utils import strutils

from trove.api.controllers import guest_access
from trove.api.schemas import ssl as schemas
from trove.common import exception, key_manager, states
from trove.db import api as db_api
from trove.db import replicas

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
        action = chosen[0]
        if action == 'rollback' and inst.ssl_previous is None:
            raise exception.BadRequest(detail='there is no previous TLS state of '
                                       'instance %s to roll back to' % inst.id)
        change = self._change(context, action, body)
        answer = self._apply(context, inst, guest, change)
        for replica_id in replicas.replica_ids(inst.id):
            self._follow(context, replica_id, change)
        return {'ssl': answer}

    def _change(self, context, action, body):
        """What to do on each member: the action, and for enable the secrets
        (read once, with the user's token) and the refs."""
        change = {'action': action}
        if action == 'enable':
            secrets = key_manager.Secrets(context)
            password_ref = body.get('password_ref')
            change.update(
                mode=body.get('mode') or 'basic', ssl_ref=body['container_ref'],
                password_ref=password_ref, p12=secrets.payload(body['container_ref']),
                password=secrets.password(password_ref) if password_ref else None)
        return change

    def _apply(self, context, inst, guest, change):
        """Change one member's TLS on its guest, then its row and consumers."""
        old, action = _state(inst), change['action']
        if action == 'enable':
            answer = guest.ssl_apply(mode=change['mode'], p12=change['p12'],
                                     password=change['password'])
            new = {'mode': answer['mode'], 'ssl_ref': change['ssl_ref'],
                   'password_ref': change['password_ref']}
        elif action == 'disable':
            answer = guest.ssl_disable()
            new = {'mode': None, 'ssl_ref': None, 'password_ref': None}
        else:
            answer = guest.ssl_rollback()
            new = json.loads(inst.ssl_previous) if inst.ssl_previous else {
                'mode': answer['mode'], 'ssl_ref': None, 'password_ref': None}
        self._record(context, inst, old, new, action)
        if answer.get('restart_required'):
            db_api.set_task(inst.id, states.InstanceTask.RESTART_REQUIRED,
                            expected={states.InstanceTask.NONE,
                                      states.InstanceTask.RESTART_REQUIRED})
        return answer

    def _follow(self, context, replica_id, change):
        """A replica serves what its primary serves (clients fail over to it
        with the same CA and mode).  A replica that cannot follow keeps its
        state and gets a fault; the primary's change stands."""
        try:
            replica = db_api.get_instance(replica_id)
            self._apply(context, replica, guest_access.get_guest(context, replica_id),
                        change)
        except exception.TroveError as exc:
            LOG.warning('Replica %s did not follow the TLS %s: %s', replica_id,
                        change['action'], exc)
            db_api.save_fault(replica_id, 'The TLS %s of the primary did not reach this '
                              'replica: %s' % (change['action'], exc))

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


def replica_tls(context, primary):
    """The primary's TLS for a new replica (``tls`` of the taskmanager's
    create_replica), the secrets read now with the user's token; None when
    the primary serves none.  A secret gone is a 400 before anything exists."""
    if not primary.ssl_mode or not primary.ssl_ref:
        return None
    secrets = key_manager.Secrets(context)
    password_ref = primary.ssl_password_ref
    return {'mode': primary.ssl_mode, 'ssl_ref': primary.ssl_ref,
            'password_ref': password_ref,
            'p12': base64.b64encode(secrets.payload(primary.ssl_ref)).decode(),
            'password': secrets.password(password_ref) if password_ref else None}


def register_consumers(context, instance_id, tls):
    """The new replica consumes the primary's secrets (with the user's token:
    the taskmanager has none)."""
    secrets = key_manager.Secrets(context)
    for ref in sorted(_refs(tls)):
        try:
            secrets.add_consumer(ref, instance_id)
        except exception.TroveError as exc:
            LOG.warning('Replica %s is not a consumer of %s: %s', instance_id, ref, exc)
