"""The compute driver interface: flavors, volumes and servers.

The taskmanager talks to a cloud only through :class:`ComputeDriver`.  The
shipped drivers are ``local`` (servers are directories plus a detached guest
agent process on this host), ``fake`` (in memory, for unit tests) and ``nova``.
The dataclasses below are the driver-neutral views the taskmanager consumes,
so nothing outside ``trove.compute`` depends on a particular cloud's objects.
"""
import abc
import dataclasses
from dataclasses import dataclass, field

from trove.common import exception

# Server statuses, a subset of nova's vocabulary that the taskmanager acts on.
BUILD = 'BUILD'
ACTIVE = 'ACTIVE'
SHUTDOWN = 'SHUTDOWN'
ERROR = 'ERROR'
SERVER_STATUSES = (BUILD, ACTIVE, SHUTDOWN, ERROR)


@dataclass
class Flavor:
    """A hardware profile; ``ram`` in MB, ``disk`` and ``ephemeral`` in GB."""

    id: str
    name: str
    ram: int
    vcpus: int
    disk: int
    ephemeral: int = 0

    def to_dict(self):
        """Plain dict, the shape the API's flavor views and casts carry."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        """Build a flavor from a dict, coercing the id to a string."""
        return cls(id=str(data['id']), name=str(data['name']), ram=int(data['ram']),
                   vcpus=int(data['vcpus']), disk=int(data['disk']),
                   ephemeral=int(data.get('ephemeral', 0)))


@dataclass
class Server:
    """A compute server as the taskmanager sees it."""

    id: str
    name: str
    status: str
    addresses: list = field(default_factory=list)
    flavor_id: str = ''
    volume_id: str | None = None
    metadata: dict = field(default_factory=dict)


@dataclass
class Volume:
    """A block volume; ``size`` in GB, ``mount_point`` where the guest sees it."""

    id: str
    size: int
    status: str
    mount_point: str | None = None


# Server metadata key marking a spare; its value is the datastore manager.
SPARE_KEY = 'trove_spare'


@dataclass
class Spare:
    """A pre-started server waiting to be claimed (drivers that keep spares)."""

    server_id: str
    volume_id: str | None
    ready: bool
    alive: bool
    age: float


# Built-in flavor catalogue shared by the local and fake drivers.  Sizes are
# modest on purpose: the local driver runs every "server" on one host.
BUILTIN_FLAVORS = (
    Flavor('1', 'm1.tiny', 512, 1, 5),
    Flavor('2', 'm1.small', 1024, 1, 10),
    Flavor('3', 'm1.medium', 2048, 2, 20),
    Flavor('4', 'm1.large', 4096, 2, 40),
    Flavor('5', 'm1.xlarge', 8192, 4, 80),
    Flavor('6', 'm1.xlarge.8c', 8192, 8, 80),
)


def builtin_flavors():
    """Fresh copies of the built-in catalogue (callers may mutate them)."""
    return [dataclasses.replace(f) for f in BUILTIN_FLAVORS]


class ComputeDriver(abc.ABC):
    """What the taskmanager needs from a cloud."""

    @abc.abstractmethod
    def list_flavors(self):
        """Return every flavor as a list of :class:`Flavor`."""

    def get_flavor(self, flavor_id):
        """Return one flavor; raises FlavorNotFound.

        Drivers with a cheap catalogue need not override this.
        """
        for flavor in self.list_flavors():
            if flavor.id == str(flavor_id):
                return flavor
        raise exception.FlavorNotFound(uuid=flavor_id)

    @abc.abstractmethod
    def create_volume(self, name, size_gb):
        """Create a volume of ``size_gb`` GB and return it as :class:`Volume`."""

    @abc.abstractmethod
    def delete_volume(self, volume_id):
        """Delete a volume; deleting an unknown volume succeeds."""

    @abc.abstractmethod
    def create_server(self, name, flavor_id, image_id, volume_id, files, userdata, metadata):
        """Create and boot a server; returns :class:`Server`.

        ``files`` maps absolute in-server paths to their text content,
        ``volume_id`` (may be None) is attached, ``userdata`` is handed to the
        server's init system where the driver has one.
        """

    @abc.abstractmethod
    def get_server(self, server_id):
        """Return one server; raises ComputeInstanceNotFound."""

    @abc.abstractmethod
    def list_servers(self):
        """Return every server this driver manages."""

    @abc.abstractmethod
    def delete_server(self, server_id):
        """Delete a server and wait until it is gone.

        Idempotent: an unknown server is already deleted.  Raises
        ComputeError when the server did not go away within
        ``CONF.server_delete_time_out`` seconds.
        """

    @abc.abstractmethod
    def reboot_server(self, server_id):
        """Power a server off and boot it again."""

    def power_off_server(self, server_id):
        """Stop a server for sure (fencing a failed primary): returns once
        nothing of it runs any more, keeping its disk and address; raises
        ComputeError when it could not be stopped."""
        raise exception.ComputeError(detail='%s cannot power off servers'
                                     % type(self).__name__)

    def power_on_server(self, server_id):
        """Boot a powered-off server again (a no-op for a running one)."""
        raise exception.ComputeError(detail='%s cannot power on servers'
                                     % type(self).__name__)

    def check_image(self, image_id):
        """ComputeError unless ``image_id`` names an image servers can boot from.

        Drivers without an image catalogue accept any id (returns None).
        """
        return None

    def rebuild_server(self, server_id, image_id, files):
        """Boot a server again from ``image_id`` with ``files`` injected: a new
        root disk, the same id, address and volume (Nova's rebuild)."""
        raise exception.ComputeError(detail='%s cannot rebuild servers' % type(self).__name__)

    def resize_server(self, server_id, flavor_id):
        """Move a server to another flavor (the guest's engine is stopped first)."""
        raise exception.ComputeError(detail='%s cannot resize servers' % type(self).__name__)

    def console_output(self, server_id, length=200):
        """The last ``length`` lines the server printed (a VM's console log),
        kept with a failed build's fault; None when the driver has none."""
        return None

    def list_volume_types(self):
        """Volume types as ``{id, name, description, is_public}`` dicts.

        Drivers without typed volumes (local, fake) have none.
        """
        return []

    def extend_volume(self, volume_id, new_size_gb):
        """Grow a volume to ``new_size_gb`` GB."""
        raise exception.ComputeError(detail='%s cannot extend volumes' % type(self).__name__)

    # -- network access (optional) ---------------------------------------------
    # An instance's ``access`` setting says who may reach its database port.
    # Drivers whose servers sit on a shared network enforce it (nova: a
    # Neutron security group per instance); the local driver gives loopback
    # addresses that nothing outside the host reaches, so it keeps these no-ops.

    def apply_access(self, server_id, instance_id, ports, cidrs):
        """Let TCP ``ports`` of the server be reached from ``cidrs`` and nothing else.

        Idempotent: calling it again replaces the rules of an earlier call,
        so the same method serves the build and later access updates.
        Raises ComputeError when the rules could not be put in place.
        """
        return None

    def release_access(self, instance_id):
        """Remove what :meth:`apply_access` made for the instance (after its servers).

        Idempotent: nothing to remove is success.
        """
        return None

    # -- writer address of a replica set (optional) ------------------------------
    # A highly available replica set may have one address that always leads
    # to its primary, so clients reconnect to the same host:port after a
    # failover (flows/writer.py).  Drivers without one return None.

    def point_writer_address(self, set_id, server_id, ports):
        """Lead the writer address of replica set ``set_id`` to ``server_id``
        on TCP ``ports`` (created at the first call); connections to the
        previous server through it end.  Returns the address, or None when
        the driver has no writer addresses.  Raises ComputeError."""
        return None

    def release_writer_address(self, set_id):
        """Remove the writer address of ``set_id`` (idempotent)."""
        return None

    # Set by drivers that restart dead agents themselves and implement agent_fault.
    supervises_agents = False

    def agent_fault(self, server_id):
        """Why the server's guest agent is down for good, or None.

        Drivers that supervise agents themselves (local) report here when
        they gave up restarting one; on a VM systemd does that job and the
        control plane only sees missing heartbeats.
        """
        return None

    # -- spare servers (optional) ---------------------------------------------
    # A driver that can keep pre-started servers sets ``supports_spares``;
    # the taskmanager's pool (trove.taskmanager.spares) creates spares with
    # create_volume/create_server and ``metadata={SPARE_KEY: manager}``.
    supports_spares = False

    def list_spares(self, manager):
        """Unclaimed spares of datastore ``manager`` as :class:`Spare`."""
        return []

    def claim_spare(self, manager, name, flavor_id, volume_size, files, metadata):
        """Give a ready spare an instance's identity.

        ``files`` replace the spare's injected files (guest_info.conf with
        the instance's identity and key); returns ``(Server, volume_id)``,
        or None when no spare is ready.
        """
        return None

    @staticmethod
    def server_address(server):
        """The address the control plane reaches the server's guest on.

        Prefers a ``private`` address, otherwise the first one listed.
        """
        if not server.addresses:
            raise exception.ComputeError(detail='server %s has no address' % server.id)
        for addr in server.addresses:
            if addr.get('type') == 'private':
                return addr['address']
        return server.addresses[0]['address']
