"""Restore a new instance to a point in time: a base backup plus the archive.

``backup_info`` is what a plain restore gets (trove.backup.info) plus
``pitr``: ``{'restore_time': ISO 8601 UTC, 'container', 'prefix',
'storage_driver'}`` naming the source instance's archive.  The backup chain
is verified and put in place without the engine's own end-of-backup
recovery (``defer_recovery``), the archive's segments from the one the
backup starts in are read back from the store (every chunk checked against
its checksum) and the engine's strategy replays them up to the time.
"""
import datetime
import os
import shutil

from oslo_log import log as logging

from trove.backup import stores
from trove.conf import CONF
from trove.guestagent import archive
from trove.guestagent.archive import base, shipper
from trove.guestagent.backup import runner as backup_runner

LOG = logging.getLogger(__name__)


def parse_time(text):
    """An aware datetime from ISO 8601 text; naive text is taken as UTC."""
    when = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def run_pitr_restore(engine, manager, backup_strategy, backup_info):
    """Fill ``engine``'s datadir as it was at ``backup_info['pitr']['restore_time']``."""
    pitr = backup_info['pitr']
    target = parse_time(pitr['restore_time'])
    strategy = archive.get_strategy(manager, engine)
    # Engines whose restore would otherwise end the recovery (PostgreSQL).
    backup_strategy.defer_recovery = True
    backup_runner.run_restore(backup_strategy, backup_info)
    store = stores.get_store(pitr.get('storage_driver') or backup_info.get('storage_driver'))
    # The backup whose position the replay continues from (the strategy's choice).
    meta = store.get_metadata(strategy.replay_backup(backup_info['chain'])['location'])
    workdir = os.path.join(CONF.mount_point, 'pitr-%s' % backup_info['backup_id'])
    shutil.rmtree(workdir, ignore_errors=True)
    segments = os.path.join(workdir, 'segments')
    try:
        keys = shipper.fetch_segments(store, pitr['container'], pitr['prefix'], strategy,
                                      strategy.first_segment(meta), segments)
        position = None
        if strategy.samples_positions:
            position = shipper.position_at(store, pitr['container'], pitr['prefix'], strategy,
                                           keys[0], target)
        LOG.info('Replaying %d archived segments up to %s (sample %s)', len(keys),
                 target.isoformat(), position)
        strategy.replay(base.ReplayRequest(segments_dir=segments, backup_meta=meta,
                                           target_time=target, position=position))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
