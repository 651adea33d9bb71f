"""Synchronous mode of a highly available replica set, on every member.

Every member gets the set's setting (the replicas too: one of them may be
promoted, and keeps it), when it changes (PUT high_availability) and when a
replica joins (flows/replication.py).  A member that cannot take it gets a
fault saying so; the others keep theirs.
"""
from oslo_log import log as logging

from trove.conf import CONF
from trove.db import api as db_api
from trove.db import replicas
from trove.guestagent import rpcapi as guest_rpcapi
from trove.taskmanager.flows import restart as restart_flow

LOG = logging.getLogger(__name__)


def apply_synchronous(context, primary_id):
    """Push the set's ``synchronous`` to the primary and its replicas;
    returns the members that failed."""
    setting = replicas.high_availability(primary_id)
    failed = []
    for member in [primary_id] + replicas.replica_ids(primary_id):
        try:
            guest_rpcapi.GuestAPI(context, member).set_synchronous(
                enabled=setting['synchronous'],
                fallback_timeout=CONF.failover.synchronous_timeout)
        except Exception as exc:
            LOG.error('Synchronous mode on %s failed: %s', member, exc)
            db_api.save_fault(member, 'Setting synchronous replication %s failed: %s' % (
                'on' if setting['synchronous'] else 'off', restart_flow._error_text(exc)))
            failed.append(member)
    LOG.info('Replica set of %s: synchronous %s', primary_id,
             'on' if setting['synchronous'] else 'off')
    return failed
