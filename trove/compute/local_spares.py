"""Spare servers of the local driver: listed from disk, claimed under the lock.

A spare is an ordinary local server whose metadata holds ``trove_spare``
(the datastore manager) and whose agent runs in spare mode
(trove.guestagent.spare): it writes ``var/spare.ready`` once its engine is
up.  Claiming one rewrites its state, its volume record and its injected
files under the driver lock, then signals the agent with SIGHUP to take the
new identity.
"""
import contextlib
import os
import signal

from oslo_log import log as logging

from trove.compute import base
from trove.compute import local_proc as proc
from trove.compute import local_state as state

LOG = logging.getLogger(__name__)
READY_FILE = os.path.join('var', 'spare.ready')


def _alive(pid, start_time):
    info = proc.proc_stat(pid) if pid else None
    return bool(info) and info[0] not in ('Z', 'X') and info[2] == start_time


class SpareMixin:
    """The spare-server part of LocalDriver."""

    supports_spares = True

    def _spare_states(self, manager):
        """(server_id, ServerState) of every unclaimed spare of ``manager``."""
        if not os.path.isdir(self.servers_dir):
            return []
        found = []
        for server_id in sorted(os.listdir(self.servers_dir)):
            data = state.read_json(os.path.join(self.servers_dir, server_id, 'state.json'))
            if data and (data.get('metadata') or {}).get(base.SPARE_KEY) == manager:
                found.append((server_id, state.ServerState.from_dict(data)))
        return found

    def _ready(self, server_id):
        return os.path.exists(os.path.join(self.server_dir(server_id), READY_FILE))

    def _agent_alive(self, server_id, st):
        """Whether the boot's session leader lives and, when supervised, its agent."""
        if not _alive(st.pid, st.start_time):
            return False
        status = self.agent_status(server_id)
        if status is None:
            return True  # not supervised: the leader is the agent
        return _alive(status.get('agent_pid'), status.get('agent_start'))

    def list_spares(self, manager):
        spares = []
        for server_id, st in self._spare_states(manager):
            spares.append(base.Spare(
                server_id=server_id, volume_id=st.volume_id,
                ready=self._ready(server_id), alive=self._agent_alive(server_id, st),
                age=state.age_seconds(st.created)))
        return spares

    def claim_spare(self, manager, name, flavor_id, volume_size, files, metadata):
        self.get_flavor(flavor_id)
        root_files = dict(files or {})
        with state.locked(self.base_dir):
            picked = None
            for server_id, st in self._spare_states(manager):
                if self._ready(server_id) and self._agent_alive(server_id, st):
                    picked = server_id, st
                    break
            if picked is None:
                return None
            server_id, st = picked
            st.name, st.flavor_id = name, str(flavor_id)
            st.metadata = dict(metadata or {})
            # Saved while holding the lock: no other claim can take it now.
            self._save(server_id, st)
        if st.volume_id:
            self._resize_record(st.volume_id, st.metadata.get('trove_instance_id'),
                                volume_size)
        self._inject(os.path.join(self.server_dir(server_id), 'root'), root_files)
        with contextlib.suppress(ProcessLookupError):
            os.kill(st.pid, signal.SIGHUP)
        LOG.info('Claimed spare server %s for %s', server_id, name)
        return self._to_server(server_id, st), st.volume_id

    def _resize_record(self, volume_id, owner, size_gb):
        """The claimed volume takes its owner's name and requested size."""
        path = os.path.join(self._volume_dir(volume_id), 'volume.json')
        data = state.read_json(path) or {'id': volume_id, 'created': state.now_iso()}
        if owner:
            data['name'] = 'trove-%s' % owner
        if size_gb:
            data['size'] = int(size_gb)
        state.write_json_atomic(path, data)

