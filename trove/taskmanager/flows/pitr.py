"""Point-in-time recovery: turn an instance's continuous archive on or off.

The API records the wish in ``instance_pitr`` (trove.db.pitr); this flow
makes the guest follow it (``start_archive`` / ``stop_archive``, GuestAPI
1.10), after a create once the instance is ACTIVE and after every PUT
``pitr``.  The window opens when the guest confirms it archives (``since``,
stamped after the call returned: a backup begun earlier may predate the
stream); turning it off closes it.  A guest that cannot follow gets a fault
and the stored wish is left for the next attempt.
"""
from oslo_log import log as logging

from trove.db import api as db_api
from trove.db import models
from trove.db import pitr as db_pitr
from trove.guestagent import rpcapi as guest_rpcapi
from trove.taskmanager import archive_retention
from trove.taskmanager.flows import restart as restart_flow

LOG = logging.getLogger(__name__)


def apply(context, instance_id):
    """Make the guest of ``instance_id`` archive (or stop) as stored; True when it did."""
    row = db_pitr.get(instance_id)
    if row is None:
        return True
    guest = guest_rpcapi.GuestAPI(context, instance_id)
    try:
        if row.enabled:
            guest.start_archive(container=row.container, prefix=row.prefix,
                                storage_driver=row.storage_driver)
            db_pitr.mark_started(instance_id, models.utcnow())
        else:
            guest.stop_archive()
            db_pitr.mark_stopped(instance_id)
            # No window needs the archive any more.
            archive_retention.prune_quietly(instance_id)
    except Exception as exc:
        LOG.error('Continuous archive of %s (%s) failed: %s', instance_id,
                  'on' if row.enabled else 'off', exc)
        db_api.save_fault(instance_id, 'Turning point-in-time recovery %s failed: %s' % (
            'on' if row.enabled else 'off', restart_flow._error_text(exc)))
        return False
    LOG.info('Continuous archive of %s %s', instance_id,
             'on into %s' % row.prefix if row.enabled else 'off')
    return True


def after_create(context, instance_id):
    """Start the archive a create asked for, once the build left the instance ACTIVE."""
    row = db_pitr.get(instance_id)
    if row is None or not row.enabled:
        return
    inst = db_api.get_instance(instance_id)
    if (inst.server_status or '').upper() == 'ACTIVE':
        apply(context, instance_id)


def reapply_pending(context, lock):
    """At taskmanager start: apply the wishes a dead taskmanager left (an
    archive asked for at create, whose build finished as it died)."""
    for instance_id in db_pitr.pending():
        with lock(instance_id):
            apply(context, instance_id)
