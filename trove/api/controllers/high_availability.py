"""High availability of a replica set: the ``high_availability`` field.

``{"high_availability": {"enabled": true}}`` on the create (POST
/instances) or update (PUT /instances/{id}) of a primary makes its replica
set fail over by itself: when the primary fails, a replica takes over
(trove.taskmanager.failover_watch).  Without the field a new primary takes
``[failover] enabled_by_default``.  The show of a primary (or of a
standalone instance, the primary of a set to come) reports it; a replica
follows its primary's setting and refuses the field.

``synchronous``: an acknowledged commit is on a replica (MariaDB
semi-synchronous replication AFTER_SYNC, PostgreSQL
``synchronous_standby_names = 'ANY 1 (*)'``); Redis has no such mode (400).
Every member gets it (trove.taskmanager.flows.high_availability).
"""
from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF
from trove.db import replicas

LOG = logging.getLogger(__name__)

SYNCHRONOUS_ENGINES = ('mariadb', 'mysql', 'postgresql')


def _checked(value, manager):
    """``(enabled, synchronous)`` of a request's value."""
    synchronous = bool(value.get('synchronous', False))
    if synchronous and manager not in SYNCHRONOUS_ENGINES:
        raise exception.BadRequest('%s has no synchronous replication '
                                   '(high_availability.synchronous).' % manager)
    return bool(value.get('enabled', False)), synchronous


def requested(data, manager):
    """``(enabled, synchronous)`` a create request (not a replica's) asks for."""
    if 'high_availability' not in data:
        return (CONF.failover.enabled_by_default,
                CONF.failover.synchronous_by_default and manager in SYNCHRONOUS_ENGINES)
    return _checked(data['high_availability'], manager)


def refuse_on_replica(data):
    if 'high_availability' in data:
        raise exception.BadRequest('high_availability is set on the primary; a replica '
                                   'follows its primary\'s setting.')


def apply(instance_id, setting):
    enabled, synchronous = setting
    if enabled or synchronous:
        replicas.set_high_availability(instance_id, enabled, synchronous)
        LOG.info('Replica set of %s: automatic failover %s, synchronous %s', instance_id,
                 'on' if enabled else 'off', 'on' if synchronous else 'off')


def update(inst, value, manager, tm):
    """PUT of the field on instance ``inst``; a change of either setting is
    pushed to the set's members by the taskmanager (``tm``)."""
    if inst.slave_of_id:
        refuse_on_replica({'high_availability': value})
    current = replicas.high_availability(inst.id)
    merged = {'enabled': current['enabled'], 'synchronous': current['synchronous']}
    merged.update(value)
    enabled, synchronous = _checked(merged, manager)
    replicas.set_high_availability(inst.id, enabled, synchronous)
    LOG.info('Replica set of %s: automatic failover %s, synchronous %s', inst.id,
             'on' if enabled else 'off', 'on' if synchronous else 'off')
    if (enabled, synchronous) != (current['enabled'], current['synchronous']):
        tm.apply_high_availability(instance_id=inst.id)


def view(inst):
    """The show's ``high_availability`` (None for a replica)."""
    if inst.slave_of_id:
        return None
    return dict(replicas.high_availability(inst.id),
                writer_address=replicas.writer_of(inst.id)[1])
