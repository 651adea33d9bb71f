"""The record of automatic failovers: ``GET /instances/{id}/failovers`` (the
failovers an instance lost or won) and, for admins, ``GET /mgmt/failovers``
(the newest of every project)."""
from trove.api import middleware
from trove.api import links
from trove.common import policy
from trove.db import api as db_api
from trove.db import failovers

LIMIT = 100


def failover_view(row):
    start = row.last_seen or row.started
    took = (row.promoted - start).total_seconds() if row.promoted else None
    return {'id': row.id, 'old_primary_id': row.old_primary_id,
            'new_primary_id': row.new_primary_id, 'reason': row.reason,
            'state': row.state, 'detail': row.detail,
            'last_seen': links.isotime(row.last_seen), 'started': links.isotime(row.started),
            'promoted': links.isotime(row.promoted), 'ended': links.isotime(row.ended),
            'seconds_to_writable': round(took, 3) if took is not None else None,
            'rejoin': _rejoin(row), 'rejoined': links.isotime(row.rejoined),
            'rejoin_detail': row.rejoin_detail}


def _rejoin(row):
    """What became of the old primary: pending, rejoined, failed, not needed
    (None for a failover that did not complete)."""
    if row.state != failovers.COMPLETED:
        return None
    return row.rejoin or 'pending'


class FailoverController:

    def instance_index(self, req, tenant_id, id):
        context = middleware.get_context(req)
        inst = db_api.get_instance(id, context.owner)
        policy.authorize(context, 'instance:failovers', inst.tenant_id)
        return {'failovers': [failover_view(r) for r in
                              failovers.list_failovers(inst.id, limit=LIMIT)]}


class MgmtFailoverController:

    def index(self, req, tenant_id):
        policy.authorize(middleware.get_context(req), 'mgmt:failover:index')
        rows = failovers.list_failovers(limit=LIMIT)
        return {'failovers': [dict(failover_view(r), tenant_id=r.tenant_id) for r in rows]}
