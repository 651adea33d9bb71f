"""Point-in-time recovery across an automatic failover (flows/failover.py).

Called once a replica was promoted: when the failed primary archived, the
new primary starts archiving too, into an archive of its own (a new
``instance_pitr`` row and prefix; flows/pitr.apply makes its guest follow),
and a full backup of it is requested at once, since a window opens only
with a full backup taken while its archive runs (trove.backup.pitr).  So
the set stays recoverable: up to the failover from the old primary's
archive and backups (its row is left as it was, so its window stays
restorable until retention prunes it), from that backup on from the new
primary's.  A set whose primary did not archive stays without.  A failure
here does not undo the failover: it is logged and saved as the new
primary's fault.
"""
from oslo_log import log as logging

from trove.backup import requests
from trove.common import context as trove_context
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import pitr as db_pitr
from trove.taskmanager import rpcapi as tm_rpcapi
from trove.taskmanager.flows import pitr as pitr_flow
from trove.taskmanager.flows import restart as restart_flow

LOG = logging.getLogger(__name__)


def follow(context, old_primary_id, new_primary_id, tm=None):
    """Have ``new_primary_id`` archive if ``old_primary_id`` did; True when
    it archives (and its base backup was asked for).  Never raises: the
    failover is done whatever happens here."""
    try:
        return _follow(context, old_primary_id, new_primary_id, tm)
    except Exception as exc:
        LOG.exception('Point-in-time recovery did not follow the failover to %s',
                      new_primary_id)
        db_api.save_fault(new_primary_id, 'Point-in-time recovery could not be turned on '
                                          'after the failover (%s); turn it on with PUT pitr.'
                          % restart_flow._error_text(exc))
        return False


def _follow(context, old_primary_id, new_primary_id, tm):
    old = db_pitr.get(old_primary_id)
    if old is None or not old.enabled:
        return False
    inst = db_api.get_instance(new_primary_id)
    before = db_pitr.get(inst.id)
    if before is not None and before.enabled and before.since is not None:
        return True   # a failover run again after a taskmanager restart: done already
    container = db_backups.container_for(inst.tenant_id, inst.id, CONF.backup.swift_container)
    db_pitr.request(inst.id, True, container, old.storage_driver or CONF.backup.storage_driver)
    if not pitr_flow.apply(context, inst.id):
        return False   # the fault says why; the stored wish is retried at restart
    try:
        tm = tm or tm_rpcapi.TaskManagerAPI(trove_context.admin_context())
        backup = requests.request_backup(
            tm, inst.tenant_id, inst, 'pitr-base-after-failover',
            description='Base of the continuous archive after failing over from %s'
                        % old_primary_id, driver=old.storage_driver or
            CONF.backup.storage_driver, container=container)
    except Exception as exc:
        LOG.error('Base backup of %s after the failover failed: %s', inst.id, exc)
        db_api.save_fault(inst.id, 'Point-in-time recovery continues after the failover, '
                                   'but its base backup could not be requested (%s): take '
                                   'a full backup to open the window.'
                          % restart_flow._error_text(exc))
        return True
    LOG.info('Point-in-time recovery of the set moved from %s to %s (base backup %s)',
             old_primary_id, inst.id, backup.id)
    return True
