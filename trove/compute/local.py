"""The ``local`` compute driver: servers on this host, no hypervisor.

A server is a directory ``<base_dir>/servers/<id>/`` with its injected files
under ``root/``, its own loopback address (Linux routes all of 127/8 to lo)
and a guest agent started detached in its own session, the way cloud-init
would start it on a VM.  A volume is a directory ``<base_dir>/volumes/<id>/``.
All state is on disk (state.json plus /proc), so a restarted taskmanager
finds its servers again.  See local_state and local_proc for the helpers.
"""
import contextlib
import os
import shutil
import sys
import time
import uuid

from oslo_log import log as logging

from trove.common import exception
from trove.compute import base
from trove.compute import local_images as images
from trove.compute import local_proc as proc
from trove.compute import local_spares
from trove.compute import local_state as state
from trove.compute import local_supervisor as supervisor
from trove.compute import local_writer as writer
from trove.conf import CONF

LOG = logging.getLogger(__name__)

CONF_DIR = '/etc/trove/conf.d'
SERVER_CONF = CONF_DIR + '/server.conf'
# A server found in BUILD for longer than this was left behind by a crash
# during create_server; report it as ERROR so nothing stays in BUILD forever.
STALE_BUILD_SECONDS = 300
SUPERVISOR_STATUS = os.path.join('var', 'supervisor.json')


class LocalDriver(local_spares.SpareMixin, base.ComputeDriver):
    """Compute driver running servers as directories and process sessions.

    ``agent_argv`` replaces the guest agent command line (tests boot a
    stand-in process with it); ``base_dir`` overrides CONF.local.base_dir.
    """

    def __init__(self, agent_argv=None, base_dir=None):
        self.agent_argv = list(agent_argv) if agent_argv else None
        self._base_dir = base_dir

    @property
    def supervises_agents(self):
        """Whether agents run under local_supervisor (agent_fault reports)."""
        return CONF.local.supervise_agents

    # -- paths -------------------------------------------------------------

    @property
    def base_dir(self):
        return os.path.abspath(self._base_dir or CONF.local.base_dir)

    @property
    def servers_dir(self):
        return os.path.join(self.base_dir, 'servers')

    @property
    def volumes_dir(self):
        return os.path.join(self.base_dir, 'volumes')

    def server_dir(self, server_id):
        """Directory of a server; ComputeInstanceNotFound for unsafe ids."""
        if not state.valid_id(server_id):
            raise exception.ComputeInstanceNotFound(server_id=server_id)
        return os.path.join(self.servers_dir, server_id)

    def _volume_dir(self, volume_id):
        if not state.valid_id(volume_id):
            raise exception.ComputeError(detail='invalid volume id %r' % volume_id)
        return os.path.join(self.volumes_dir, volume_id)

    # -- flavors -----------------------------------------------------------

    def list_flavors(self):
        """Built-in catalogue, or base_dir/flavors.json when present."""
        return state.load_flavors(self.base_dir)

    # -- volumes -----------------------------------------------------------

    def create_volume(self, name, size_gb):
        """Create a volume directory; its size is recorded, not enforced."""
        volume_id = str(uuid.uuid4())
        path = self._volume_dir(volume_id)
        os.makedirs(path)
        state.write_json_atomic(os.path.join(path, 'volume.json'), {
            'id': volume_id, 'name': name, 'size': int(size_gb), 'created': state.now_iso()})
        LOG.info('Created local volume %s (%s GB) at %s', volume_id, size_gb, path)
        return base.Volume(id=volume_id, size=int(size_gb), status='available',
                           mount_point=path)

    def get_volume(self, volume_id):
        """Return a volume; ComputeError when it does not exist."""
        path = self._volume_dir(volume_id)
        data = state.read_json(os.path.join(path, 'volume.json'))
        if data is None:
            raise exception.ComputeError(detail='volume %s not found' % volume_id)
        return base.Volume(id=volume_id, size=int(data['size']), status='available',
                           mount_point=path)

    def extend_volume(self, volume_id, new_size_gb):
        """Record a larger size; a directory has no real size to grow."""
        path = os.path.join(self._volume_dir(volume_id), 'volume.json')
        data = state.read_json(path)
        if data is None:
            raise exception.ComputeError(detail='volume %s not found' % volume_id)
        if int(new_size_gb) <= int(data['size']):
            raise exception.ComputeError(detail='volume %s is already %s GB'
                                         % (volume_id, data['size']))
        data['size'] = int(new_size_gb)
        state.write_json_atomic(path, data)
        LOG.info('Extended local volume %s to %s GB', volume_id, new_size_gb)

    def delete_volume(self, volume_id):
        """Remove a volume directory and its data; unknown ids are ignored."""
        if not state.valid_id(volume_id):
            return
        shutil.rmtree(self._volume_dir(volume_id), ignore_errors=True)
        LOG.info('Deleted local volume %s', volume_id)

    # -- servers: create -----------------------------------------------------

    def create_server(self, name, flavor_id, image_id, volume_id, files, userdata, metadata):
        """Create the server directory, inject files and boot the agent."""
        self.get_flavor(flavor_id)
        images.find_image(self.base_dir, image_id)
        volume = self.get_volume(volume_id) if volume_id else None
        files = dict(files or {})
        server_id = str(uuid.uuid4())
        sdir = self.server_dir(server_id)
        root = os.path.join(sdir, 'root')
        # Validate every path before anything is created.
        for path in files:
            state.resolve_in_root(root, path)
        st = self._reserve(server_id, state.ServerState(
            name=name, flavor_id=str(flavor_id), image_id=image_id, volume_id=volume_id,
            metadata=dict(metadata or {}), created=state.now_iso()))
        try:
            mount_point = volume.mount_point if volume else os.path.join(
                root, 'var', 'lib', 'trove', 'volume')
            os.makedirs(mount_point, exist_ok=True)
            files[SERVER_CONF] = self._server_conf(st.address, mount_point, sdir)
            self._inject(root, files)
            if userdata:
                with open(os.path.join(sdir, 'userdata'), 'w') as f:
                    f.write(userdata)
        except Exception:
            # The server never booted: remove it so its address is free again.
            shutil.rmtree(sdir, ignore_errors=True)
            raise
        self._boot(server_id, st)
        return self._to_server(server_id, st)

    def _reserve(self, server_id, st):
        """Allocate an address and write the first state.json under the lock.

        Writing state.json while still holding the lock is what makes the
        address taken for the next allocation.
        """
        sdir = self.server_dir(server_id)
        with state.locked(self.base_dir):
            st.address = self._free_address()
            os.makedirs(os.path.join(sdir, 'var', 'log'))
            self._save(server_id, st)
        LOG.info('Reserved local server %s (%s) at %s', server_id, st.name, st.address)
        return st

    def _free_address(self):
        """An address no server and no writer address holds (under the lock)."""
        used = state.used_addresses(self.servers_dir) | writer.used_addresses(self.base_dir)
        return state.allocate_address(CONF.local.address_prefix, used)

    def point_writer_address(self, set_id, server_id, ports):
        """A forwarder process on a loopback address of its own
        (trove.compute.local_writer), re-pointed at ``server_id``."""
        target = self._load(server_id).address
        return writer.point(self.base_dir, set_id, target, ports, self._free_address)

    def release_writer_address(self, set_id):
        writer.release(self.base_dir, set_id)

    @staticmethod
    def _server_conf(address, mount_point, sdir):
        """What a VM learns from its NIC and its mounted disk."""
        return ('[DEFAULT]\n'
                'host_address = %s\n'
                'mount_point = %s\n'
                'guest_state_dir = %s\n' % (address, mount_point, os.path.join(sdir, 'var')))

    @staticmethod
    def _inject(root, files):
        for path, content in files.items():
            target = state.resolve_in_root(root, path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            # Injected config may hold broker credentials: owner only.
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write(content)

    # -- servers: boot and power off ---------------------------------------------

    def _argv(self, server_id):
        """The agent's command line, under its supervisor unless that is off."""
        python = CONF.guest_python or sys.executable
        if self.agent_argv:
            agent = list(self.agent_argv)
        else:
            conf_dir = os.path.join(self.server_dir(server_id), 'root', CONF_DIR.lstrip('/'))
            agent = [python, '-m', 'trove.cmd.guest', '--config-dir', conf_dir]
        if not CONF.local.supervise_agents:
            return agent
        policy = supervisor.Policy(backoff=CONF.local.agent_restart_backoff,
                                   max_deaths=CONF.local.agent_restart_limit,
                                   window=CONF.local.agent_restart_window)
        return supervisor.command(python, self._supervisor_path(server_id), agent, policy)

    def _supervisor_path(self, server_id):
        return os.path.join(self.server_dir(server_id), SUPERVISOR_STATUS)

    def agent_status(self, server_id):
        """The supervisor's status of the server's agent (see local_supervisor), or None."""
        return supervisor.read_status(self._supervisor_path(server_id))

    def agent_fault(self, server_id):
        """Why the server's agent is no longer restarted, or None."""
        status = self.agent_status(server_id) if state.valid_id(server_id) else None
        if status and status.get('state') == supervisor.FAILED:
            return status.get('fault') or 'the guest agent keeps dying'
        return None

    def _boot(self, server_id, st):
        """Start the guest agent; status ACTIVE on success, ERROR otherwise."""
        sdir = self.server_dir(server_id)
        # A fault of the previous boot's supervisor does not carry over.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._supervisor_path(server_id))
        try:
            st.pid, st.sid, st.start_time = proc.spawn(
                self._argv(server_id), sdir, os.path.join(sdir, 'var', 'log', 'guestagent.log'),
                env=images.agent_environment(images.find_image(self.base_dir, st.image_id),
                                             proc.agent_env()),
                nice=CONF.local.agent_nice)
            st.status = base.ACTIVE
        except OSError as exc:
            LOG.error('Could not start the guest agent of server %s: %s', server_id, exc)
            st.pid = st.sid = st.start_time = None
            st.status = base.ERROR
        self._save(server_id, st)
        if st.status == base.ACTIVE and CONF.local.supervise_agents:
            self._wait_first_start(server_id, st)

    def _wait_first_start(self, server_id, st, timeout=5.0):
        """Wait while the supervisor lives and has not tried to start the agent
        yet, so an agent that cannot start at all is an ERROR server at once."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.agent_status(server_id) is None:
            info = proc.proc_stat(st.pid)
            if not info or info[2] != st.start_time or info[0] in ('Z', 'X'):
                return
            time.sleep(0.02)

    def console_output(self, server_id, length=200):
        """Tail of what the server's guest agent wrote to stdout/stderr."""
        path = os.path.join(self.server_dir(server_id), 'var', 'log', 'guestagent.log')
        try:
            with open(path, 'rb') as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 256 * 1024))
                lines = f.read().decode('utf-8', 'replace').splitlines()
        except OSError:
            return None
        return '\n'.join(lines[-length:])

    def _power_off(self, server_id, st):
        """Stop every process of the server's session within the delete timeout."""
        proc.power_off(st.sid, st.start_time, CONF.server_delete_time_out)

    # -- servers: queries --------------------------------------------------------

    def _save(self, server_id, st):
        state.write_json_atomic(os.path.join(self.server_dir(server_id), 'state.json'),
                                st.to_dict())

    def _load(self, server_id):
        """ServerState from disk; ComputeInstanceNotFound if absent or half-written."""
        data = state.read_json(os.path.join(self.server_dir(server_id), 'state.json'))
        if data is None:
            raise exception.ComputeInstanceNotFound(server_id=server_id)
        return state.ServerState.from_dict(data)

    def _status(self, server_id, st):
        """Observed status: a booted server whose session is empty is SHUTDOWN,
        one whose agent supervisor gave up is ERROR."""
        if st.status == base.ACTIVE:
            if self.agent_fault(server_id):
                return base.ERROR
            alive = proc.session_alive(st.sid, st.start_time)
            return base.ACTIVE if alive else base.SHUTDOWN
        if st.status == base.BUILD and state.age_seconds(st.created) > STALE_BUILD_SECONDS:
            return base.ERROR
        return st.status

    def _to_server(self, server_id, st):
        addresses = [{'address': st.address, 'type': 'private', 'network': 'local'}]
        return base.Server(id=server_id, name=st.name, status=self._status(server_id, st),
                           addresses=addresses if st.address else [],
                           flavor_id=st.flavor_id, volume_id=st.volume_id,
                           metadata=dict(st.metadata))

    def get_server(self, server_id):
        """Return a server from its state on disk."""
        return self._to_server(server_id, self._load(server_id))

    def list_servers(self):
        """Every server with a readable state.json."""
        if not os.path.isdir(self.servers_dir):
            return []
        servers = []
        for server_id in sorted(os.listdir(self.servers_dir)):
            try:
                servers.append(self.get_server(server_id))
            except exception.ComputeInstanceNotFound:
                continue
        return servers

    # -- servers: lifecycle ------------------------------------------------------

    def delete_server(self, server_id):
        """Power off, then remove the directory (which frees the address)."""
        if not state.valid_id(server_id):
            return
        sdir = self.server_dir(server_id)
        if not os.path.isdir(sdir):
            return
        try:
            st = self._load(server_id)
        except exception.ComputeInstanceNotFound:
            st = None
        if st is not None and st.sid:
            self._power_off(server_id, st)
        shutil.rmtree(sdir, ignore_errors=True)
        if os.path.exists(sdir):
            raise exception.ComputeError(detail='could not remove %s' % sdir)
        LOG.info('Deleted local server %s', server_id)

    def resize_server(self, server_id, flavor_id):
        """Record the new flavor; all local servers share the host's RAM and CPUs."""
        self.get_flavor(flavor_id)
        with state.locked(self.base_dir):
            st = self._load(server_id)
            st.flavor_id = str(flavor_id)
            self._save(server_id, st)
        LOG.info('Resized local server %s to flavor %s', server_id, flavor_id)

    def check_image(self, image_id):
        """ComputeError unless the image catalogue (local_images) has ``image_id``."""
        images.find_image(self.base_dir, image_id)

    def rebuild_server(self, server_id, image_id, files):
        """Power off, give the server a new root (its injected ``files``, the
        server.conf) on ``image_id`` and boot it; volume and address stay.

        Like a VM's new root disk: the agent's state directory goes too (so
        the new agent prepares again, on the data of the volume); its
        console log stays.
        """
        images.find_image(self.base_dir, image_id)
        st = self._load(server_id)
        if st.sid:
            self._power_off(server_id, st)
        sdir = self.server_dir(server_id)
        mount_point = (self.get_volume(st.volume_id).mount_point if st.volume_id
                       else os.path.join(sdir, 'root', 'var', 'lib', 'trove', 'volume'))
        for name in os.listdir(os.path.join(sdir, 'var')):
            if name != 'log':
                path = os.path.join(sdir, 'var', name)
                shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
        if st.volume_id:
            shutil.rmtree(os.path.join(sdir, 'root'), ignore_errors=True)
        files = dict(files or {})
        files[SERVER_CONF] = self._server_conf(st.address, mount_point, sdir)
        os.makedirs(mount_point, exist_ok=True)
        self._inject(os.path.join(sdir, 'root'), files)
        st.image_id, st.status = image_id, base.SHUTDOWN
        st.pid = st.sid = st.start_time = None
        self._save(server_id, st)
        self._boot(server_id, st)
        LOG.info('Rebuilt local server %s on image %s', server_id, image_id or 'default')

    def reboot_server(self, server_id):
        """Power off (keeping the directory), then boot the agent again."""
        self._boot(server_id, self._shut_down(server_id))
        LOG.info('Rebooted local server %s', server_id)

    def power_off_server(self, server_id):
        """Every process of the server ends (SIGTERM, then SIGKILL); the
        directory, volume and address stay; status SHUTDOWN."""
        self._shut_down(server_id)
        LOG.info('Powered off local server %s', server_id)

    def power_on_server(self, server_id):
        st = self._load(server_id)
        if st.status == base.ACTIVE and proc.session_members(st.sid, st.start_time):
            return
        self._boot(server_id, self._shut_down(server_id))
        LOG.info('Powered on local server %s', server_id)

    def _shut_down(self, server_id):
        st = self._load(server_id)
        if st.sid:
            self._power_off(server_id, st)
        st.status = base.SHUTDOWN
        st.pid = st.sid = st.start_time = None
        self._save(server_id, st)
        return st

