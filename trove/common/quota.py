"""Project quotas: limits, usage, and reserve / run / commit-or-rollback.

Resources and their defaults (``-1`` is unlimited; per-project overrides live
in the ``quotas`` table and are set through ``PUT /mgmt/quotas/{project}``):

* ``instances`` -- ``CONF.max_instances_per_tenant``
* ``ram``       -- MB of flavor RAM, ``CONF.max_ram_per_tenant``
* ``volumes``   -- volume GB, ``CONF.max_volumes_per_tenant``
* ``backups``   -- ``CONF.max_backups_per_tenant``

How to use it from an API controller (the deltas are applied at API time,
the work itself is usually an RPC cast)::

    from trove.common import quota

    # +1 backup; QuotaExceeded (413) before anything is done when over.
    backup = quota.run_with_quotas(ctx.project_id, quota.backup_deltas(+1),
                                   lambda: create_backup_row_and_cast(...))
    # -1 on delete
    quota.run_with_quotas(ctx.project_id, quota.backup_deltas(-1), do_delete)
    # resize: only the difference counts (a shrink is a negative delta)
    quota.run_with_quotas(ctx.project_id,
                          quota.resize_deltas(old_ram=512, new_ram=2048), fn)
    quota.run_with_quotas(ctx.project_id,
                          quota.resize_deltas(old_volume=1, new_volume=4), fn)

``run_with_quotas`` reserves, runs ``fn``, commits when ``fn`` returns and
rolls back when it raises anything (the exception is re-raised), so a
failed request never leaves a reservation behind.

Where the work is one write transaction (an instance row and its build
request), ``charger`` charges ``in_use`` inside that transaction instead:
one write where reserve / fn / commit take three, and nothing to roll back.
"""
from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.db import quotas as db

LOG = logging.getLogger(__name__)

RESOURCES = ('instances', 'ram', 'volumes', 'backups')

_DEFAULT_OPTS = {
    'instances': 'max_instances_per_tenant',
    'ram': 'max_ram_per_tenant',
    'volumes': 'max_volumes_per_tenant',
    'backups': 'max_backups_per_tenant',
}


class QuotaResourceUnknown(exception.NotFound):
    message = 'Unknown quota resources %(unknown)s.'


def default_limits():
    """``{resource: limit}`` from the configuration."""
    return {res: getattr(CONF, opt) for res, opt in _DEFAULT_OPTS.items()}


def get_limits(tenant_id):
    """``{resource: limit}`` of a project: its overrides over the defaults."""
    limits = default_limits()
    limits.update({k: v for k, v in db.get_overrides(tenant_id).items() if k in limits})
    return limits


def set_limits(tenant_id, values):
    """Set per-project limits; returns the values set.

    Raises QuotaResourceUnknown (404) for a resource that does not exist
    and BadRequest for a limit that is not an integer >= -1.
    """
    unknown = sorted(set(values) - set(RESOURCES))
    if unknown:
        raise QuotaResourceUnknown(unknown=unknown)
    checked = {}
    for resource, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            try:
                value = int(value)
            except (TypeError, ValueError):
                value = None
            if value is None or value < -1:
                raise exception.BadRequest(
                    'Quota limit of %s must be an integer >= -1.' % resource)
        checked[resource] = value
    for resource, value in checked.items():
        db.set_override(tenant_id, resource, value)
    LOG.info('Quotas of project %s set: %s', tenant_id, checked)
    return checked


def get_usage(tenant_id):
    """``[{resource, in_use, reserved, limit}]`` of every resource of a project."""
    db.ensure_usages(tenant_id, RESOURCES)
    usages = db.get_usages(tenant_id)
    limits = get_limits(tenant_id)
    return [{'resource': res, 'in_use': usages[res][0], 'reserved': usages[res][1],
             'limit': limits[res]} for res in RESOURCES]


def reserve(tenant_id, deltas):
    """Reserve non-zero ``deltas``; returns the reservation ids.

    Raises QuotaExceeded (413) naming every resource that is over.
    """
    deltas = {k: int(v) for k, v in deltas.items() if v}
    unknown = sorted(set(deltas) - set(RESOURCES))
    if unknown:
        raise QuotaResourceUnknown(unknown=unknown)
    if not deltas:
        return []
    db.ensure_usages(tenant_id, deltas)
    ids, overs = db.reserve(tenant_id, deltas, get_limits(tenant_id))
    if overs:
        LOG.info('Project %s over quota for %s (asked %s)', tenant_id, overs, deltas)
        raise exception.QuotaExceeded(overs=sorted(overs))
    return ids


def charger(tenant_id, deltas):
    """``charge(session)``: adds ``deltas`` to ``in_use`` in the caller's write
    transaction, raising QuotaExceeded (413) when over so that transaction
    rolls back with nothing written.  The limits are read here, outside it."""
    deltas = {k: int(v) for k, v in deltas.items() if v}
    unknown = sorted(set(deltas) - set(RESOURCES))
    if unknown:
        raise QuotaResourceUnknown(unknown=unknown)
    db.ensure_usages(tenant_id, deltas)
    limits = get_limits(tenant_id)

    def charge(session):
        overs = db.charge_in_use(session, tenant_id, deltas, limits)
        if overs:
            LOG.info('Project %s over quota for %s (asked %s)', tenant_id, overs, deltas)
            raise exception.QuotaExceeded(overs=sorted(overs))
    return charge


def commit(reservation_ids):
    if reservation_ids:
        db.finish(reservation_ids, commit=True)


def rollback(reservation_ids):
    if reservation_ids:
        db.finish(reservation_ids, commit=False)


def run_with_quotas(tenant_id, deltas, fn):
    """Reserve ``deltas``, return ``fn()``; commit on success, roll back on any error."""
    ids = reserve(tenant_id, deltas)
    try:
        result = fn()
    except BaseException:
        try:
            rollback(ids)
        except Exception:
            LOG.exception('Rolling back quota reservations %s failed', ids)
        raise
    commit(ids)
    return result


def instance_deltas(sign, ram=0, volume_size=0):
    """Deltas of creating (``sign=+1``) or deleting (``-1``) one instance."""
    return {'instances': sign, 'ram': sign * int(ram or 0),
            'volumes': sign * int(volume_size or 0)}


def backup_deltas(sign):
    """Deltas of creating (``+1``) or deleting (``-1``) one backup."""
    return {'backups': sign}


def resize_deltas(old_ram=0, new_ram=0, old_volume=0, new_volume=0):
    """Deltas of a flavor and/or volume resize: the differences only."""
    return {'ram': int(new_ram or 0) - int(old_ram or 0),
            'volumes': int(new_volume or 0) - int(old_volume or 0)}
