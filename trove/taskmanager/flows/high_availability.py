"""The high availability settings of a replica set, on every member.

Every member gets the set's settings (the replicas too: one of them may be
promoted, and keeps them), when they change (PUT high_availability) and
when a replica joins (flows/replication.py):

* the failover guard (on while the set fails over automatically): a
  guarded member found down at agent start stays down until the control
  plane rejoins it (trove.taskmanager.rejoin), so a fenced old primary that
  boots again is never a second writer;
* the synchronous mode;
* the writer address (flows/writer.py), an address that leads to the
  primary whoever it is.

A member that cannot take them gets a fault saying so; the others keep theirs.
"""
from oslo_log import log as logging

from trove.conf import CONF
from trove.db import api as db_api
from trove.db import replicas
from trove.guestagent import rpcapi as guest_rpcapi
from trove.taskmanager.flows import restart as restart_flow
from trove.taskmanager.flows import writer

LOG = logging.getLogger(__name__)


def apply(context, primary_id, driver=None):
    """Push the set's guard and ``synchronous`` to the primary and its
    replicas; with the compute ``driver``, the set's writer address is made
    (or removed when the set is no longer highly available).  Returns the
    members that failed."""
    setting = replicas.high_availability(primary_id)
    if driver is not None and setting['enabled']:
        writer.point(driver, primary_id)
    elif driver is not None:
        writer.release(driver, primary_id)
    failed = []
    for member in [primary_id] + replicas.replica_ids(primary_id):
        guest = guest_rpcapi.GuestAPI(context, member)
        try:
            guest.set_failover_guard(enabled=setting['enabled'])
            guest.set_synchronous(enabled=setting['synchronous'],
                                  fallback_timeout=CONF.failover.synchronous_timeout)
        except Exception as exc:
            LOG.error('High availability settings on %s failed: %s', member, exc)
            db_api.save_fault(member, 'Setting automatic failover %s and synchronous '
                              'replication %s failed: %s' % (
                                  'on' if setting['enabled'] else 'off',
                                  'on' if setting['synchronous'] else 'off',
                                  restart_flow._error_text(exc)))
            failed.append(member)
    LOG.info('Replica set of %s: failover guard %s, synchronous %s', primary_id,
             'on' if setting['enabled'] else 'off',
             'on' if setting['synchronous'] else 'off')
    return failed
