"""The conductor: applies what guests report to the infrastructure database.

Guests never touch the database themselves; they cast here.
"""
import datetime
import json
import math

import oslo_messaging as messaging
from oslo_log import log as logging

from trove.common import exception
from trove.backup import reports as backup_reports
from trove.common import rpc_crypto
from trove.common import states
from trove.conductor import batcher
from trove.db import api as db_api
from trove.db import heartbeats

LOG = logging.getLogger(__name__)


# Only a restart clears RESTART_REQUIRED; heartbeats leave it in place.
KEEP = (states.ServiceStatus.RESTART_REQUIRED,)


def _stream(payload):
    """The replica's stream report to store (``replication`` column): JSON
    text, None for a member that is no replica; KEEP (the column as it is)
    for an older guest that does not send the key."""
    if 'replication' not in payload:
        return heartbeats.KEEP
    report = payload['replication']
    if not isinstance(report, dict):
        return None
    lag = report.get('lag')
    kept = {'following': _text(report.get('following'), 255),
            'lag': lag if isinstance(lag, int) and not isinstance(lag, bool) else None,
            'healthy': bool(report.get('healthy')), 'broken': bool(report.get('broken')),
            'error': _text(report.get('error'), 1000)}
    return json.dumps(kept)


def _text(value, limit):
    return value[:limit] if isinstance(value, str) else None


def _archive_latest(payload):
    """The archive's newest time (naive UTC) of a heartbeat, None without one."""
    text = payload.get('archive_latest')
    if not isinstance(text, str):
        return None
    try:
        when = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        return None   # the status is still worth storing
    if when.tzinfo is not None:
        when = when.astimezone(datetime.UTC).replace(tzinfo=None)
    return when


def _sent(value):
    """``sent`` as a float, None when absent; raises ValueError for garbage
    (which would fail the whole batch in the database)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise ValueError(value)
    return float(value)


def apply_beats(beats):
    """Apply heartbeats in one transaction and log the status changes."""
    for change in heartbeats.apply(beats, keep=KEEP):
        if change.before != change.after:
            LOG.info('Instance %s service status %s -> %s', change.instance_id,
                     change.before.description, change.after.description)


class Manager:
    """RPC endpoint of topic ``trove-conductor``.

    With ``batch_window`` (seconds) heartbeats are applied in batches by a
    :class:`~trove.conductor.batcher.Batcher`; without, each one at once.
    """

    # Highest RPC version served; see rpcapi.py for the history.
    target = messaging.Target(version='1.1')

    def __init__(self, batch_window=0):
        self._batcher = batcher.Batcher(apply_beats, batch_window) if batch_window else None

    def heartbeat(self, context, instance_id, payload, sent=None):
        """Store the service status a guest reports, unless it is stale.

        Stale ones (by ``sent``) and those of unknown or deleted instances
        are dropped where they are applied (trove.db.heartbeats), which also
        keeps an older heartbeat from overwriting a newer one.
        """
        if isinstance(instance_id, str) and rpc_crypto.check_sender(context, instance_id):
            self._heartbeat(instance_id, payload, sent)

    def _heartbeat(self, instance_id, payload, sent):
        try:
            beat = heartbeats.Beat(
                instance_id, _sent(sent),
                states.ServiceStatus.from_description(payload['service_status']),
                _stream(payload), _archive_latest(payload))
        except (KeyError, TypeError, ValueError, AttributeError):
            LOG.warning('Heartbeat of %s is malformed: %r (sent %r)', instance_id,
                        payload, sent)
            return
        if self._batcher is None:
            apply_beats([beat])
        else:
            self._batcher.submit(beat)

    def flush(self):
        """Apply the heartbeats received so far (at shutdown, and in tests)."""
        if self._batcher is not None:
            self._batcher.flush()

    def stop(self):
        """Apply what is pending and end the batch thread."""
        if self._batcher is not None:
            self._batcher.stop()

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
