"""Guest RPC endpoints of continuous archiving (GuestAPI 1.10), a mixin of the Manager.

``start_archive`` starts the shipper (trove.guestagent.archive.shipper) of
the engine's change log into ``container``/``prefix`` of a backup store and
records that in the state dir, so an agent restart resumes it
(``resume_archive`` at agent start); ``stop_archive`` stops it and releases
what the stream held on the engine (PostgreSQL's slot).
``get_archive_status`` answers the shipper's newest recoverable time (it
stands still while the stream writes a file again from its start).
"""
import contextlib
import json
import os
import threading

from oslo_log import log as logging

from trove.backup import stores
from trove.conf import CONF
from trove.guestagent import archive

LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()


def _config_path():
    return os.path.join(CONF.guest_state_dir, 'archive.json')


def _load_config():
    try:
        with open(_config_path()) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class ArchiveEndpoints:
    """start_archive, stop_archive, get_archive_status."""

    archive_shipper = None

    def start_archive(self, context, container, prefix, storage_driver=None,
                      start_backup=None):
        """``start_backup``: the store location of the backup the archive
        starts with (optional); an empty spool begins where a restore from
        it needs the archive to begin (MariaDB: the backup's binary log)."""
        config = {'container': container, 'prefix': prefix,
                  'storage_driver': storage_driver or CONF.backup.storage_driver,
                  'start_backup': start_backup}
        with _LOCK:
            if self.archive_shipper is None:
                # Refuses an engine without a strategy before anything is recorded.
                self._start_shipper(config)
                os.makedirs(CONF.guest_state_dir, exist_ok=True)
                tmp = _config_path() + '.tmp'
                with open(tmp, 'w') as f:
                    json.dump(config, f)
                os.replace(tmp, _config_path())
        return self.get_archive_status(context)

    def stop_archive(self, context):
        with _LOCK:
            if self.archive_shipper is not None:
                self.archive_shipper.disable()
                self.archive_shipper = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(_config_path())
        return self.get_archive_status(context)

    def get_archive_status(self, context=None):
        ship = self.archive_shipper
        return {'enabled': ship is not None,
                'latest_restorable_time': ship.state.latest if ship else None}

    def resume_archive(self):
        """At agent start: resume the archive a previous agent was running."""
        config = _load_config()
        if config and self.archive_shipper is None:
            with _LOCK:
                LOG.info('Resuming the continuous archive into %s', config['prefix'])
                self._start_shipper(config)

    def stop_archive_thread(self):
        """At agent shutdown: stop shipping but keep the archive enabled."""
        if self.archive_shipper is not None:
            self.archive_shipper.stop()

    def _start_shipper(self, config):
        # Imported here: most guests never archive, and the agent's imports
        # are on the critical path of every build.
        from trove.guestagent.archive import shipper
        strategy = archive.get_strategy(CONF.datastore_manager, self.engine)
        store = stores.get_store(config.get('storage_driver'))
        if config.get('start_backup'):
            strategy.start_from(store.get_metadata(config['start_backup']))
        ship = shipper.Shipper(
            strategy, store, config['container'],
            config['prefix'], os.path.join(CONF.mount_point, 'archive-spool'),
            os.path.join(CONF.guest_state_dir, 'archive'))
        ship.resume()
        ship.start()
        self.archive_shipper = ship
