"""Run a backup into the store, or restore a chain of backups, on the guest.

Backup: report BUILDING, pipe the strategy's stream through the compressor
straight into the store (which hashes and counts it), keep reporting
BUILDING as progress so the taskmanager's watchdog knows the guest is
alive, then report COMPLETED with size (GB), checksum and location -- or
FAILED, in which case the store has kept nothing.

Restore: verify the checksum of every object of the chain first (a
mismatch fails before the datadir is touched), then let the strategy
rebuild the datadir; the bytes are hashed again while they are extracted.
"""
import os
import shutil
import tempfile
import time

from oslo_log import log as logging

from trove.backup import stores
from trove.backup.stores import base as store_base
from trove.common import exception
from trove.common.states import BackupState
from trove.conf import CONF
from trove.guestagent.backup import base

LOG = logging.getLogger(__name__)
GB = 1024.0 ** 3


class Progress:
    """Passes chunks through and calls ``report()`` every ``interval`` seconds."""

    def __init__(self, chunks, report, interval):
        self.chunks, self.report, self.interval = chunks, report, interval
        self.bytes = 0

    def __iter__(self):
        last = time.monotonic()
        for chunk in self.chunks:
            self.bytes += len(chunk)
            if time.monotonic() - last >= self.interval:
                last = time.monotonic()
                self.report()
            yield chunk


def _metadata(info, strategy, compression):
    parent = info.get('parent') or {}
    meta = {'backup_id': info['id'], 'instance_id': info['instance_id'],
            'backup_type': info.get('backup_type') or 'full',
            'parent_id': parent.get('id') or '', 'parent_location': parent.get('location') or '',
            'parent_checksum': parent.get('checksum') or '',
            'datastore': info.get('datastore') or '',
            'datastore_version': info.get('datastore_version') or '',
            'format': strategy.stream_format, 'compression': compression}
    return meta


def _stream_into_store(strategy, info, store, workdir, report):
    parent = info.get('parent')
    parent_meta = store.get_metadata(parent['location']) if parent else None
    argv = strategy.backup_command(workdir, parent_meta)
    compression = base.compressor(CONF.backup.compression)
    suffix, compress_argv, _ = base.COMPRESSORS[compression]
    meta = _metadata(info, strategy, compression)
    pipe = base.Pipeline(argv, compress_argv, os.path.join(workdir, 'backup.log'))

    def chunks():
        yield from Progress(pipe, report, CONF.backup.progress_interval)
        # The store reads the metadata after the last chunk, so what the
        # tool wrote at its end (LSNs) is recorded too.
        meta.update(strategy.backup_metadata(workdir))

    name = '%s.%s.%s' % (info['id'], strategy.stream_format, suffix)
    try:
        return store.put_stream(info.get('container') or CONF.backup.swift_container,
                                name, chunks(), meta)
    finally:
        pipe.kill()


def run_backup(strategy, info, conductor, store=None):
    """Take the backup ``info`` describes; reports every state to ``conductor``.

    Returns True on success.  Never raises: a failure is reported FAILED.
    """
    backup_id = info['id']

    def report(**fields):
        conductor.update_backup(instance_id=info['instance_id'], backup_id=backup_id,
                                sent=time.time(), **fields)

    report(state=BackupState.BUILDING)
    os.makedirs(CONF.guest_state_dir, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix='backup-', dir=CONF.guest_state_dir)
    started = time.monotonic()
    try:
        store = store or stores.get_store(info.get('storage_driver'))
        strategy.install()
        stored = _stream_into_store(strategy, info, store, workdir,
                                    lambda: report(state=BackupState.BUILDING))
    except Exception as exc:
        LOG.exception('Backup %s failed', backup_id)
        report(state=BackupState.FAILED, success=False,
               note=(getattr(exc, 'msg', None) or str(exc))[:200])
        return False
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    seconds = time.monotonic() - started
    LOG.info('Backup %s stored at %s: %d bytes in %.1fs (%.1f MB/s)', backup_id,
             stored.location, stored.size, seconds, stored.size / 1e6 / max(seconds, 1e-3))
    report(state=BackupState.COMPLETED, success=True, size=stored.size / GB,
           checksum=stored.checksum, location=stored.location)
    return True


def verify_chain(store, chain):
    """Check every object's checksum; returns their metadata (full backup first)."""
    metas = []
    for entry in chain:
        try:
            store_base.verify(store, entry['location'], entry['checksum'])
            metas.append(store.get_metadata(entry['location']))
        except store_base.ChecksumMismatch as exc:
            raise exception.BackupIntegrityError(backup_id=entry['id'], detail=str(exc))
        except exception.NotFound:
            raise exception.BackupIntegrityError(backup_id=entry['id'],
                                                 detail='its object is missing from '
                                                        'the backup store')
        LOG.info('Backup %s verified', entry['id'])
    return metas


def _checked_stream(store, entry):
    """A reader of ``entry``'s object that fails at the end on a changed checksum."""
    counted = store_base.HashingIterator(store.get_stream(entry['location']))
    yield from counted
    if counted.checksum != entry['checksum']:
        raise exception.BackupIntegrityError(backup_id=entry['id'],
                                             detail='object changed while restoring')


def run_restore(strategy, backup_info, store=None):
    """Rebuild the engine's datadir from ``backup_info`` (see trove.backup.info)."""
    store = store or stores.get_store(backup_info.get('storage_driver'))
    chain = backup_info['chain']
    metas = verify_chain(store, chain)
    strategy.install()
    workdir = os.path.join(CONF.mount_point, 'restore-%s' % backup_info['backup_id'])
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    items = []
    for entry, meta in zip(chain, metas, strict=True):
        decompress = base.COMPRESSORS[meta.get('compression', 'gzip')][2]
        items.append((meta, lambda e=entry: _checked_stream(store, e), decompress))
    try:
        strategy.restore(items, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    LOG.info('Restored backup %s (%d objects)', backup_info['backup_id'], len(chain))
