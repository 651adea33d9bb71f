"""The conductor: applies what guests report to the infrastructure database.

Guests never touch the database themselves; they cast here.
"""
import json

import oslo_messaging as messaging
from oslo_log import log as logging

from trove.common import exception
from trove.backup import reports as backup_reports
from trove.common import rpc_crypto
from trove.common import locks
from trove.common import states
from trove.db import api as db_api

LOG = logging.getLogger(__name__)


def _stream(payload):
    """The replica's stream report to store (``replication`` column): JSON
    text, None for a member that is no replica; nothing from an older guest
    that does not send the key."""
    if 'replication' not in payload:
        return {}
    report = payload['replication']
    if not isinstance(report, dict):
        return {'replication': None}
    lag = report.get('lag')
    kept = {'following': _text(report.get('following'), 255),
            'lag': lag if isinstance(lag, int) and not isinstance(lag, bool) else None,
            'healthy': bool(report.get('healthy')), 'broken': bool(report.get('broken')),
            'error': _text(report.get('error'), 1000)}
    return {'replication': json.dumps(kept)}


def _text(value, limit):
    return value[:limit] if isinstance(value, str) else None


class Manager:
    """RPC endpoint of topic ``trove-conductor``."""

    # Highest RPC version served; see rpcapi.py for the history.
    target = messaging.Target(version='1.1')

    def heartbeat(self, context, instance_id, payload, sent=None):
        """Store the service status a guest reports, unless it is stale."""
        if not rpc_crypto.check_sender(context, instance_id):
            return
        # Casts run on several executor threads: without the lock an older
        # heartbeat could pass the staleness check and then write its status
        # after a newer one.
        with locks.instance_lock(instance_id):
            self._heartbeat(instance_id, payload, sent)

    def _heartbeat(self, instance_id, payload, sent):
        try:
            status = states.ServiceStatus.from_description(payload['service_status'])
        except (KeyError, TypeError, ValueError):
            LOG.warning('Heartbeat of %s has an unknown status: %r', instance_id, payload)
            return
        # One transaction: the staleness check, the status and its stamp.
        # RESTART_REQUIRED is kept until a restart clears it.
        changed = db_api.apply_heartbeat(instance_id, sent, status,
                                         keep=(states.ServiceStatus.RESTART_REQUIRED,),
                                         **_stream(payload))
        if changed is None:
            LOG.debug('Dropped a stale heartbeat or one of an unknown instance (%s)',
                      instance_id)
        elif changed[0] != changed[1]:
            LOG.info('Instance %s service status %s -> %s', instance_id,
                     changed[0].description, changed[1].description)

    def notify_exc_info(self, context, instance_id, message, details=None, sent=None):
        """Keep the error a guest hit as the instance's fault."""
        if not rpc_crypto.check_sender(context, instance_id):
            return
        try:
            db_api.get_instance(instance_id)
        except exception.InstanceNotFound:
            return
        db_api.save_fault(instance_id, message, details)

    def update_backup(self, context, instance_id, backup_id, sent=None, **fields):
        """Apply a guest's backup report (upstream section 3.4)."""
        if not rpc_crypto.check_sender(context, instance_id):
            return
        backup_reports.update_backup(instance_id, backup_id, sent, fields)
