"""What the databases, users and root controllers share.

``get_guest`` is the module-level hook that yields the guest RPC client;
tests replace it with a fake.  :func:`ready_guest` is the gate every one of
those requests passes: the instance must belong to the caller's project
(else 404, as for a missing one) and be ACTIVE with a running or healthy
database service whose heartbeat is current (else 422, as upstream).
``readiness.refuse_silent_guest`` is the heartbeat part of that gate, shared by
every request that needs the guest (actions, backups, configuration, logs)
so a guest that has not reported is refused with the same 422 everywhere.
"""
from trove.api import links, middleware
from trove.api.views import instances as instance_views
from trove.common import exception, policy, readiness, states
from trove.db import api as db_api

_READY = frozenset({states.ServiceStatus.RUNNING, states.ServiceStatus.HEALTHY})


def get_guest(context, instance_id):
    """The guest client of ``instance_id``; tests replace this hook."""
    from trove.guestagent.rpcapi import GuestAPI
    return GuestAPI(context, instance_id)


def ready_guest(req, instance_id, rule=None, statuses=('ACTIVE',)):
    """``(context, instance, guest)`` for an instance ready for engine work.

    ``rule`` is the policy rule of the action, checked against the owner;
    ``statuses`` are the instance statuses accepted (a TLS change may be
    made again while the last one waits for its restart).
    """
    context = middleware.get_context(req)
    inst = db_api.get_instance(instance_id, context.owner)
    if rule is not None:
        policy.authorize(context, rule, inst.tenant_id)
    status = instance_views.compute_status(inst)
    service = db_api.get_service_status(inst.id)
    service_status = states.ServiceStatus.from_code(service.status_id) if service else None
    if status not in statuses or service_status not in _READY:
        shown = service_status.api_status if service_status else 'UNKNOWN'
        raise exception.UnprocessableEntity(
            detail='instance %s is not ready (status %s, database service %s).'
                   % (instance_id, status, shown))
    readiness.refuse_silent_guest(inst.id, service)
    if inst.slave_of_id and req.method != 'GET':
        # The agent's admin bypasses read_only: a change here would be a
        # transaction the primary never had, and break the stream.
        raise exception.BadRequest(
            'Instance %s is a replica of %s: change databases, users and root on the '
            'primary; they reach the replica through replication.'
            % (inst.id, inst.slave_of_id))
    return context, inst, get_guest(context, inst.id)


def page_limit(context, page_size):
    """The page size of a list request: the query ``limit``, capped by the config."""
    if context.limit and context.limit > 0:
        return min(context.limit, page_size)
    return page_size


def guest_page(req, instance_id, rule, kind, page_size, view):
    """One page of the guest's ``kind`` ('databases' or 'users'), listed with
    ``list_<kind>`` and rendered with ``view``, plus a next link when more follow."""
    context, _inst, guest = ready_guest(req, instance_id, rule=rule)
    limit = page_limit(context, page_size)
    items, next_marker = getattr(guest, 'list_' + kind)(
        limit=limit, marker=context.marker, include_marker=False)
    body = {kind: view(items)}
    if next_marker:
        body['links'] = links.next_page_link(req, next_marker)
    return body
