"""The pool of pre-started spare servers, for drivers that keep them.

``[local] spare_servers`` names how many spares to keep per datastore
manager.  ``refill`` runs periodically in the taskmanager: it replaces
spares whose agent died or that never became ready, and creates the missing
ones.  ``claim`` is the create flow's fast path: a ready spare already runs
its engine, so the build only secures it and creates databases and users.
"""
from oslo_log import log as logging

from trove.compute import base, local_state
from trove.conf import CONF
from trove.taskmanager import guest_files

LOG = logging.getLogger(__name__)


def wanted():
    """``{manager: count}`` from the configuration (bad counts read as 0)."""
    counts = {}
    for manager, count in (CONF.local.spare_servers or {}).items():
        try:
            counts[manager] = max(0, int(count))
        except (TypeError, ValueError):
            LOG.error('Ignoring spare_servers entry %s:%s (not a number)', manager, count)
    return counts


def _remove(driver, spare, why):
    LOG.info('Removing spare %s: %s', spare.server_id, why)
    driver.delete_server(spare.server_id)
    if spare.volume_id:
        driver.delete_volume(spare.volume_id)


def _create(driver, manager):
    flavor = driver.get_flavor(CONF.local.spare_flavor)
    volume = driver.create_volume('trove-spare-%s' % manager, 1)
    try:
        server = driver.create_server(
            name='spare-%s' % manager, flavor_id=flavor.id, image_id=None,
            volume_id=volume.id, files=guest_files.spare_files(manager, flavor.ram),
            userdata=None, metadata={base.SPARE_KEY: manager})
    except Exception:
        driver.delete_volume(volume.id)
        raise
    LOG.info('Started spare %s for %s', server.id, manager)


def refill(driver):
    """Bring every pool to its configured size (one taskmanager at a time)."""
    if not driver.supports_spares:
        return
    counts = wanted()
    if not counts:
        return
    base_dir = getattr(driver, 'base_dir', CONF.local.base_dir)
    with local_state.locked(base_dir, name='spares.lock'):
        for manager, count in counts.items():
            kept = 0
            for spare in driver.list_spares(manager):
                if not spare.alive:
                    _remove(driver, spare, 'its agent is gone')
                elif not spare.ready and spare.age > CONF.local.spare_boot_timeout:
                    _remove(driver, spare, 'not ready after %d s' % spare.age)
                elif kept >= count:
                    _remove(driver, spare, 'the pool is smaller now')
                else:
                    kept += 1
            for _ in range(count - kept):
                _create(driver, manager)


def drain(driver):
    """Remove every spare of every datastore manager; returns how many.

    ``trove-manage spares_delete`` (and bin/unstack.sh) use it once the
    taskmanager, which would refill the pools, is stopped.
    """
    managers = {s.metadata[base.SPARE_KEY] for s in driver.list_servers()
                if s.metadata.get(base.SPARE_KEY)}
    count = 0
    for manager in sorted(managers):
        for spare in driver.list_spares(manager):
            _remove(driver, spare, 'the pools are drained')
            count += 1
    return count


def claim(driver, req, inst, files):
    """``(server, volume_id)`` of a claimed spare, or None to build from scratch.

    Restores need an empty datadir and instances without a volume would
    leave the spare's volume unowned, so both take the ordinary path.
    """
    if (not driver.supports_spares or req.backup_id or not req.volume_size
            or not wanted().get(req.datastore_manager)):
        return None
    try:
        return driver.claim_spare(
            manager=req.datastore_manager, name=inst.name, flavor_id=req.flavor['id'],
            volume_size=req.volume_size, files=files,
            metadata={'trove_instance_id': inst.id, 'trove_project_id': inst.tenant_id})
    except Exception:
        LOG.exception('Claiming a spare for %s failed; building from scratch', inst.id)
        return None

