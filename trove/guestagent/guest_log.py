"""Guest logs: list, enable/disable, publish and discard (``/instances/{id}/log``).

Each engine describes its logs with :class:`LogDefinition` (see
``Engine.log_definitions``); this module does the engine-independent part.
Publishing uploads the bytes written since the previous publish to the
backup store (``[backup] storage_driver``) in ``CONF.guest_log_container_name``
as ``<instance>/<datastore>-<log>/log-<timestamp>`` and rewrites the JSON
metafile ``<instance>/<datastore>-<log>_metafile`` that lists them.  What was
published is kept in a small JSON file in the guest state dir, so the
counters survive an agent restart.
"""
import dataclasses
import datetime
import json
import os
import threading
from collections.abc import Callable

from oslo_log import log as logging

from trove.backup import stores
from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines.common import files

LOG = logging.getLogger(__name__)

SYS, USER = 'SYS', 'USER'
# Statuses as upstream shows them; Restart Required/Completed never apply
# here because every engine switches its logs live.
DISABLED, ENABLED, UNAVAILABLE = 'Disabled', 'Enabled', 'Unavailable'
READY, PUBLISHED, PARTIAL, ROTATED = 'Ready', 'Published', 'Partial', 'Rotated'
STATE_FILE = 'guest_logs.json'
_READ_CHUNK = 64 * 1024


@dataclasses.dataclass(frozen=True)
class LogDefinition:
    """One log of an engine.

    ``path`` is None when the file cannot be known (status Unavailable).
    USER logs supply ``enabled`` (does the engine write it now?) and
    ``set_enabled(on)``, which switches it live and persists the choice;
    SYS logs are always on and can only be published or discarded.
    """

    name: str
    type: str
    path: str | None
    enabled: Callable[[], bool] | None = None
    set_enabled: Callable[[bool], None] | None = None


def agent_log_path():
    """The agent's own log file, or None when it cannot be known.

    With ``log_file`` oslo.log writes there; otherwise it writes to stdout,
    which the local compute driver (like a systemd unit with a file target)
    points at a regular file that /proc tells us.
    """
    if CONF.log_file:
        if CONF.log_dir and not os.path.isabs(CONF.log_file):
            return os.path.join(CONF.log_dir, CONF.log_file)
        return CONF.log_file
    for fd in (1, 2):
        try:
            target = os.readlink('/proc/self/fd/%d' % fd)
        except OSError:
            continue
        if os.path.isabs(target) and os.path.isfile(target):
            return target
    return None


def agent_log():
    """The ``guest`` SYS log every engine has."""
    return LogDefinition('guest', SYS, agent_log_path())


def _size(path):
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def _read_range(path, start, end):
    """Chunks of bytes ``[start, end)`` of ``path`` (the file may grow meanwhile)."""
    with open(path, 'rb') as f:
        f.seek(start)
        left = end - start
        while left > 0:
            chunk = f.read(min(_READ_CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def _new_entry():
    return {'offset': 0, 'published': 0, 'objects': [], 'metafile': None}


class GuestLogs:
    """The logs of one engine and what was published of them."""

    def __init__(self, engine, store_factory=None):
        self.engine = engine
        self._store_factory = store_factory or stores.get_store
        self._lock = threading.Lock()

    # -- persisted state ---------------------------------------------------
    @property
    def _state_path(self):
        return os.path.join(CONF.guest_state_dir, STATE_FILE)

    def _load(self):
        try:
            with open(self._state_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def _save(self, state):
        os.makedirs(CONF.guest_state_dir, exist_ok=True)
        files.write_file(self._state_path, json.dumps(state, sort_keys=True))

    # -- naming ------------------------------------------------------------
    @staticmethod
    def prefix(name):
        """Object prefix of a log's published parts (with the trailing '/')."""
        return '%s/%s-%s/' % (CONF.guest_id, CONF.datastore_manager, name)

    def metafile(self, name):
        return self.prefix(name).rstrip('/') + '_metafile'

    # -- views ---------------------------------------------------------------
    def _definitions(self):
        return {d.name: d for d in self.engine.log_definitions()}

    def _definition(self, name):
        defn = self._definitions().get(name)
        if defn is None:
            raise exception.LogNotFound(log=name)
        return defn

    @staticmethod
    def _is_enabled(defn, entry):
        if defn.type == SYS:
            return True
        try:
            return bool(defn.enabled())
        except Exception as exc:  # engine down: show what was last set
            LOG.warning('Could not ask the engine whether log %s is on: %s', defn.name, exc)
            return bool(entry.get('enabled'))

    def _view(self, defn, entry, enabled=None):
        """The API form of a log: ``{name, type, status, published, pending, ...}``."""
        size = _size(defn.path)
        offset = entry['offset']
        rotated = size < offset
        pending = size if rotated else size - offset
        if enabled is None:
            enabled = self._is_enabled(defn, entry)
        if defn.path is None:
            status = UNAVAILABLE
        elif not enabled:
            status = DISABLED
        elif rotated:
            status = ROTATED
        elif entry['published']:
            status = PARTIAL if pending else PUBLISHED
        else:
            status = READY if pending else ENABLED
        return {'name': defn.name, 'type': defn.type, 'status': status,
                'published': entry['published'], 'pending': pending,
                'container': CONF.guest_log_container_name,
                'prefix': self.prefix(defn.name), 'metafile': self.metafile(defn.name)}

    def list(self):
        """Every log of the engine, SYS ones included (the API filters them)."""
        with self._lock:
            state = self._load()
            return [self._view(d, state.get(d.name) or _new_entry())
                    for d in self.engine.log_definitions()]

    # -- actions -------------------------------------------------------------
    def action(self, name, enable=False, disable=False, publish=False, discard=False):
        """Do at most one action on log ``name``; returns its view afterwards."""
        if sum(bool(a) for a in (enable, disable, publish, discard)) > 1:
            raise exception.BadRequest(detail='only one of enable, disable, publish and '
                                              'discard may be given')
        with self._lock:
            defn = self._definition(name)
            state = self._load()
            entry = state.setdefault(name, _new_entry())
            enabled = None
            if enable or disable:
                enabled = self._switch(defn, entry, bool(enable))
            elif publish:
                self._publish(defn, entry)
            elif discard:
                self._discard(entry)
            self._save(state)
            return self._view(defn, entry, enabled)

    @staticmethod
    def _switch(defn, entry, on):
        if defn.type == SYS or defn.set_enabled is None:
            raise exception.BadRequest(detail='log %s is a system log; it cannot be '
                                              '%s' % (defn.name, 'enabled' if on
                                                      else 'disabled'))
        defn.set_enabled(on)
        entry['enabled'] = on
        LOG.info('Log %s %s', defn.name, 'enabled' if on else 'disabled')
        # A reload may apply a moment later; the caller asked for this state.
        return on

    def _publish(self, defn, entry):
        """Upload the bytes written since the last publish (at most the newest
        ``guest_log_limit``) and rewrite the metafile."""
        if defn.path is None:
            raise exception.BadRequest(detail='log %s is unavailable' % defn.name)
        end = _size(defn.path)
        start = entry['offset'] if entry['offset'] <= end else 0  # rotated: all of it
        start = max(start, end - CONF.guest_log_limit)
        if end <= start:
            return
        lines = sum(chunk.count(b'\n') for chunk in _read_range(defn.path, start, end))
        stamp = datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%S.%f')
        object_name = self.prefix(defn.name) + 'log-' + stamp
        store = self._store_factory()
        stored = store.put_stream(CONF.guest_log_container_name, object_name,
                                  _read_range(defn.path, start, end),
                                  {'lines': lines, 'log': defn.name})
        entry['objects'].append({'name': object_name, 'location': stored.location,
                                 'size': stored.size, 'lines': lines})
        entry['offset'] = end
        entry['published'] += stored.size
        self._write_metafile(store, defn, entry)
        LOG.info('Published %d bytes of log %s as %s', stored.size, defn.name, object_name)

    def _write_metafile(self, store, defn, entry):
        if entry['metafile']:
            # Swift would keep the old manifest's segments on an overwrite.
            store.delete(entry['metafile'])
        meta = {'log': defn.name, 'type': defn.type, 'instance_id': CONF.guest_id,
                'datastore': CONF.datastore_manager, 'published': entry['published'],
                'objects': [{k: o[k] for k in ('name', 'size', 'lines')}
                            for o in entry['objects']]}
        data = json.dumps(meta, sort_keys=True).encode()
        entry['metafile'] = store.put_stream(CONF.guest_log_container_name,
                                             self.metafile(defn.name), [data], {}).location

    def _discard(self, entry):
        """Delete every published part and the metafile; counters start over."""
        locations = [o['location'] for o in entry['objects']]
        if entry['metafile']:
            locations.append(entry['metafile'])
        if locations:
            store = self._store_factory()
            for location in locations:
                store.delete(location)
        entry.update(_new_entry())
        LOG.info('Discarded %d published objects', len(locations))
