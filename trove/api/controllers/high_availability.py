"""High availability of a replica set: the ``high_availability`` field.

``{"high_availability": {"enabled": true}}`` on the create (POST
/instances) or update (PUT /instances/{id}) of a primary makes its replica
set fail over by itself: when the primary fails, a replica takes over
(trove.taskmanager.failover_watch).  Without the field a new primary takes
``[failover] enabled_by_default``.  The show of a primary (or of a
standalone instance, the primary of a set to come) reports it; a replica
follows its primary's setting and refuses the field.

``synchronous`` (an acknowledged commit is on a replica) is refused until
the engines' synchronous mode lands: nothing here pretends to offer it.
"""
from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.db import replicas

LOG = logging.getLogger(__name__)

def _checked(value):
    if value.get('synchronous'):
        raise exception.BadRequest('Synchronous replica sets (high_availability.'
                                   'synchronous) are not available yet.')
    return bool(value.get('enabled', False))


def requested(data):
    """Whether a create request (not a replica's) asks for a highly available set."""
    if 'high_availability' not in data:
        return CONF.failover.enabled_by_default
    return _checked(data['high_availability'])


def refuse_on_replica(data):
    if 'high_availability' in data:
        raise exception.BadRequest('high_availability is set on the primary; a replica '
                                   'follows its primary\'s setting.')


def apply(instance_id, enabled):
    if enabled:
        replicas.set_high_availability(instance_id, True, False)
        LOG.info('Replica set of %s is highly available', instance_id)


def update(inst, value):
    """PUT of the field on instance ``inst``."""
    if inst.slave_of_id:
        refuse_on_replica({'high_availability': value})
    enabled = _checked(value)
    if enabled or replicas.high_availability(inst.id)['enabled']:
        replicas.set_high_availability(inst.id, enabled, False)
    LOG.info('Replica set of %s: automatic failover %s', inst.id,
             'on' if enabled else 'off')


def view(inst):
    """The show's ``high_availability`` (None for a replica)."""
    if inst.slave_of_id:
        return None
    return replicas.high_availability(inst.id)
