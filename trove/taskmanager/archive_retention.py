"""Prune each continuous archive to what kept backups and open windows need.

A restore to a time starts from a full backup taken while the archive ran
(trove.backup.pitr.usable) and reads the archive from the segment that
backup's metadata names on (trove.guestagent.archive.restore); the window
starts at the end of the oldest such backup.  So:

* An open archive (point-in-time recovery on) keeps every segment from the
  first segment of its oldest kept usable full backup on; the chunks of
  older segments are needed by nothing and are deleted.  The earliest
  restorable time depends only on segments that are kept, and moves forward
  as retention (or a user) deletes the oldest backups.  Without a usable
  full backup nothing is pruned: one may be running, and where it starts is
  known only once it completes.
* A closed archive (turned off: the guest stopped and the window is gone)
  is deleted whole; turning it on again starts a new prefix.
* A deleted instance keeps its archive while a usable full backup of it is
  kept: a user may restore such a backup to a time (restorePoint.backupRef
  with restoreTime).  It is pruned as those backups go and deleted with its
  row when the last one is gone.

Runs after every backup delete (the retention of backup schedules deletes
through it), after PITR is turned off, after an instance delete, and for
every archive each ``[backup] retention_interval`` (an archive begun before
its first backup sheds what precedes it).  Deleting an object that is gone
already is not an error, so two taskmanagers may prune at once.
"""
from oslo_log import log as logging

from trove.backup import archive_keys
from trove.backup import pitr
from trove.backup import stores
from trove.common import exception
from trove.db import api as db_api
from trove.db import datastores
from trove.db import pitr as db_pitr

LOG = logging.getLogger(__name__)


def first_needed(manager, metas):
    """The earliest first segment of the backups with metadata ``metas``
    (in log order), or None when one of them names none (prune nothing)."""
    order, first_segment = archive_keys.rules(manager)
    firsts = [first_segment(meta) for meta in metas]
    if not firsts or None in firsts:
        return None
    return min(firsts, key=order)


def doomed(manager, chunks, first):
    """Locations of the chunks (list_chunks' map) of segments before ``first``."""
    order, _first_segment = archive_keys.rules(manager)
    bound = order(first)
    found = []
    for key, pieces in chunks.items():
        try:
            before = order(key) < bound
        except (ValueError, TypeError):
            continue  # not a segment of this engine: not ours to judge
        if before:
            found.extend(location for _offset, location in pieces)
    return sorted(found)


def _instance(instance_id):
    """(instance, deleted?) or (None, True) when no record is left."""
    try:
        return db_api.get_instance(instance_id), False
    except exception.InstanceNotFound:
        try:
            return db_api.get_instance(instance_id, deleted=True), True
        except exception.InstanceNotFound:
            return None, True


def _usable_metas(row):
    """Store metadata of the archive's usable full backups (None if one is unreadable)."""
    rows = {b.id: b for b in db_pitr.full_backups(row.instance_id)}
    usable = pitr.usable([pitr.FullBackup(id=b.id, started=b.created, finished=b.updated)
                          for b in rows.values()], row.since)
    metas = []
    for backup in usable:
        try:
            found = rows[backup.id]
            store = stores.get_store(found.storage_driver or row.storage_driver)
            metas.append(store.get_metadata(found.location))
        except Exception as exc:
            LOG.warning('Archive of %s: backup %s metadata unreadable (%s); '
                        'pruning nothing', row.instance_id, backup.id, exc)
            return None
    return metas


def _delete(store, locations):
    for location in locations:
        store.delete(location)
    return len(locations)


def prune_instance(instance_id):
    """Prune the archive of ``instance_id`` by the rules above; returns the
    number of objects deleted."""
    row = db_pitr.get(instance_id)
    if row is None or not row.prefix:
        return 0
    inst, deleted = _instance(instance_id)
    store = stores.get_store(row.storage_driver)
    chunks = archive_keys.list_segment_objects(store, row.container, row.prefix)
    everything = sorted(loc for pieces in chunks.values() for _o, loc in pieces)
    if not row.enabled:
        if row.since is not None:
            return 0   # the guest has not stopped yet: it may still ship
        count = _drop(store, row, everything, 'point-in-time recovery is off')
        db_pitr.forget_prefix(instance_id, row.prefix)
        return count
    if inst is None or (not deleted and row.since is None):
        return 0
    metas = _usable_metas(row)
    if metas is None:
        return 0
    if not metas:
        if deleted:
            count = _drop(store, row, everything, 'no backup of the deleted instance needs it')
            db_pitr.delete(instance_id)
            return count
        return 0
    manager = datastores.get_version_by_id(inst.datastore_version_id).manager
    first = first_needed(manager, metas)
    if first is None:
        return 0
    count = _delete(store, doomed(manager, chunks, first))
    if count:
        LOG.info('Archive %s of %s: %d objects before segment %s deleted (no kept '
                 'backup needs them)', row.prefix, instance_id, count, first)
    return count


def _drop(store, row, everything, why):
    count = _delete(store, everything)
    if count:
        LOG.info('Archive %s of %s deleted (%d objects): %s', row.prefix, row.instance_id,
                 count, why)
    return count


def prune_quietly(instance_id):
    """prune_instance for a flow whose own work is done: a failure is logged
    (the periodic pass tries again)."""
    if not instance_id:
        return 0
    try:
        return prune_instance(instance_id)
    except Exception:
        LOG.exception('Pruning the archive of %s failed', instance_id)
        return 0


def prune_all():
    """prune_instance for every recorded archive; returns objects deleted."""
    return sum(prune_quietly(instance_id) for instance_id in db_pitr.with_prefix())
