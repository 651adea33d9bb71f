"""The ``nova`` compute driver: servers from Nova, data volumes from Cinder.

Every call runs as the trove service user (``[service_credentials]``).
Servers boot from the datastore version's image with the data volume
attached as ``CONF.block_device_mapping`` (vdb); the files the taskmanager
injects and the guest agent's installation travel as cloud-init userdata.
An instance's ``access`` is a Neutron security group (nova_network.py).
Client errors leave this module as trove exceptions only: a 404 as the
matching NotFound, anything else as ComputeError with a readable message,
which the taskmanager turns into BUILDING_ERROR_SERVER/VOLUME/SEC_GROUP.
"""
import time

from oslo_log import log as logging

from trove.common import exception
from trove.compute import base
from trove.compute import nova_clients as clients
from trove.compute import nova_network
from trove.compute import nova_writer
from trove.compute import nova_userdata
from trove.compute import nova_volumes
from trove.conf import CONF

LOG = logging.getLogger(__name__)

# Nova's server statuses folded into the four the taskmanager acts on.
_STATUS_MAP = {
    'ACTIVE': base.ACTIVE,
    'BUILD': base.BUILD, 'REBUILD': base.BUILD, 'REBOOT': base.BUILD,
    'HARD_REBOOT': base.BUILD, 'RESIZE': base.BUILD, 'VERIFY_RESIZE': base.BUILD,
    'REVERT_RESIZE': base.BUILD, 'MIGRATING': base.BUILD, 'PASSWORD': base.BUILD,
    'RESCUE': base.BUILD,
    'SHUTOFF': base.SHUTDOWN, 'STOPPED': base.SHUTDOWN, 'SUSPENDED': base.SHUTDOWN,
    'PAUSED': base.SHUTDOWN, 'SHELVED': base.SHUTDOWN, 'SHELVED_OFFLOADED': base.SHUTDOWN,
    'ERROR': base.ERROR, 'UNKNOWN': base.ERROR,
}
# A server in one of these is as good as gone.
_GONE = ('DELETED', 'SOFT_DELETED')
_ADDRESS_TYPES = {'fixed': 'private', 'floating': 'public'}


def map_status(nova_status):
    """The base status of a Nova status (unknown words count as ERROR)."""
    return _STATUS_MAP.get((nova_status or '').upper(), base.ERROR)


def _addresses(server):
    """Nova's ``{network: [{addr, OS-EXT-IPS:type}]}`` as base's address list."""
    found = []
    for network, entries in sorted((getattr(server, 'addresses', None) or {}).items()):
        for entry in entries:
            kind = _ADDRESS_TYPES.get(entry.get('OS-EXT-IPS:type'), 'private')
            found.append({'address': entry['addr'], 'type': kind, 'network': network,
                          'version': entry.get('version', 4)})
    return found


def _flavor_id(server):
    # From microversion 2.47 on Nova embeds the flavor without its id.
    flavor = getattr(server, 'flavor', None) or {}
    return str(flavor.get('id') or flavor.get('original_name') or '')


def to_server(server):
    """A driver-neutral :class:`base.Server` from a novaclient server."""
    volumes = getattr(server, 'os-extended-volumes:volumes_attached', None) or []
    return base.Server(id=server.id, name=server.name, status=map_status(server.status),
                       addresses=_addresses(server), flavor_id=_flavor_id(server),
                       volume_id=volumes[0]['id'] if volumes else None,
                       metadata=dict(getattr(server, 'metadata', None) or {}))


def to_flavor(flavor):
    """A :class:`base.Flavor` from a novaclient flavor."""
    return base.Flavor(id=str(flavor.id), name=flavor.name, ram=int(flavor.ram),
                       vcpus=int(flavor.vcpus), disk=int(flavor.disk or 0),
                       ephemeral=int(getattr(flavor, 'OS-FLV-EXT-DATA:ephemeral', 0) or 0))


class NovaDriver(base.ComputeDriver):
    """Flavors and servers from Nova, volumes from Cinder.

    ``session``, ``nova``, ``cinder`` and ``neutron`` (a keystoneauth
    Adapter) may be passed in (tests, callers holding a session already); by
    default they come from ``[service_credentials]``.  ``sleep`` is the
    pause between polls.
    """

    def __init__(self, session=None, nova=None, cinder=None, sleep=time.sleep,
                 neutron=None):
        session = session if session is not None else clients.make_session()
        self.nova = nova or clients.make_nova(session)
        self.cinder = cinder or clients.make_cinder(session)
        neutron = neutron or nova_network.make_neutron(session)
        self.security_groups = nova_network.SecurityGroups(neutron)
        self.writers = nova_writer.FloatingWriters(neutron)
        self.sleep = sleep
        self.volumes = nova_volumes.Volumes(self.cinder, self.nova, sleep)

    # Flavors ---------------------------------------------------------------

    def list_flavors(self):
        with clients.translate('list flavors'):
            return [to_flavor(f) for f in self.nova.flavors.list()]

    def get_flavor(self, flavor_id):
        with clients.translate('get flavor %s' % flavor_id,
                               not_found=exception.FlavorNotFound(uuid=flavor_id)):
            return to_flavor(self.nova.flavors.get(flavor_id))

    # Volumes ---------------------------------------------------------------

    def list_volume_types(self):
        with clients.translate('list volume types'):
            types = self.cinder.volume_types.list()
        return [{'id': t.id, 'name': t.name, 'description': getattr(t, 'description', None),
                 'is_public': bool(getattr(t, 'is_public', True))} for t in types]

    def create_volume(self, name, size_gb):
        return self.volumes.create(name, size_gb)

    def delete_volume(self, volume_id):
        self.volumes.delete(volume_id)

    def extend_volume(self, volume_id, new_size_gb):
        return self.volumes.extend(volume_id, new_size_gb)

    # Servers ---------------------------------------------------------------

    def _networks(self):
        if CONF.management_networks:
            return [{'net-id': net} for net in CONF.management_networks]
        return 'auto'

    def create_server(self, name, flavor_id, image_id, volume_id, files, userdata, metadata):
        """Boot ``image_id``; the volume is attached as a non-boot disk."""
        if not image_id:
            raise exception.ComputeError(detail='no image id for server %s' % name)
        device = None
        bdm = None
        if volume_id:
            device = '/dev/%s' % CONF.block_device_mapping
            bdm = [{'uuid': volume_id, 'source_type': 'volume',
                    'destination_type': 'volume', 'device_name': CONF.block_device_mapping,
                    'boot_index': -1, 'delete_on_termination': False}]
        document = nova_userdata.combine(nova_userdata.render(files, device=device), userdata)
        metadata = {str(k): str(v) for k, v in (metadata or {}).items()}
        tags = ['trove'] + (['trove-%s' % metadata['trove_instance_id']]
                            if 'trove_instance_id' in metadata else [])
        # Nova answers an unknown image or flavor with 400, so no 404 mapping.
        with clients.translate('create server %s' % name):
            server = self.nova.servers.create(
                name=name, image=image_id, flavor=flavor_id, userdata=document,
                meta=metadata, block_device_mapping_v2=bdm, nics=self._networks(),
                key_name=CONF.nova_keypair, tags=tags)
        LOG.info('Booting server %s (%s) from image %s', server.id, name, image_id)
        # Nova lists a server's addresses only once its build has allocated
        # the network; the taskmanager records the address from what this
        # returns, so it waits for the build to end (ACTIVE or ERROR).
        built = self._built(server.id, error_ok=True)
        if (built.status or '').upper() in _GONE:
            raise exception.ComputeInstanceNotFound(server_id=server.id)
        return to_server(built)

    def get_server(self, server_id):
        with clients.translate('get server %s' % server_id,
                               not_found=exception.ComputeInstanceNotFound(server_id=server_id)):
            server = self.nova.servers.get(server_id)
        if (server.status or '').upper() in _GONE:
            raise exception.ComputeInstanceNotFound(server_id=server_id)
        return to_server(server)

    def console_output(self, server_id, length=200):
        """The VM's console log (cloud-init and the agent print there)."""
        with clients.translate('console log of %s' % server_id):
            return self.nova.servers.get_console_output(server_id, length=length)

    def list_servers(self):
        """Servers trove made (tagged ``trove``) in the service project."""
        with clients.translate('list servers'):
            servers = self.nova.servers.list(search_opts={'tags': 'trove'})
        return [to_server(s) for s in servers if (s.status or '').upper() not in _GONE]

    def _gone(self, server_id):
        try:
            self.get_server(server_id)
        except exception.ComputeInstanceNotFound:
            return True
        return False

    def delete_server(self, server_id):
        with clients.translate('delete server %s' % server_id):
            try:
                self.nova.servers.delete(server_id)
            except clients.NOT_FOUND:
                return
        clients.wait_for(lambda: self._gone(server_id), bool, CONF.server_delete_time_out,
                         'server %s was not deleted' % server_id, sleep=self.sleep)
        LOG.info('Deleted server %s', server_id)

    def check_image(self, image_id):
        """The image must exist in Glance (through Nova's image proxy)."""
        if not image_id:
            raise exception.ComputeError(detail='no image id')
        with clients.translate('find image %s' % image_id,
                               not_found=exception.ComputeError(
                                   detail='image %s not found' % image_id)):
            self.nova.glance.find_image(image_id)

    def rebuild_server(self, server_id, image_id, files):
        """Rebuild on ``image_id`` (the volume stays attached), new user data with
        ``files`` (needs compute API 2.57+), and wait until it is ACTIVE again."""
        if not image_id:
            raise exception.ComputeError(detail='no image id to rebuild %s on' % server_id)
        server = self.get_server(server_id)
        device = '/dev/%s' % CONF.block_device_mapping if server.volume_id else None
        document = nova_userdata.render(files, device=device)
        not_found = exception.ComputeInstanceNotFound(server_id=server_id)
        with clients.translate('rebuild server %s' % server_id, not_found=not_found):
            self.nova.servers.rebuild(server_id, image_id, userdata=document)
        LOG.info('Rebuilding server %s on image %s', server_id, image_id)
        self._wait_status(server_id, ('ACTIVE',), CONF.reboot_time_out, 'rebuild')

    def reboot_server(self, server_id):
        """Hard reboot (power cycle) and wait until the server is ACTIVE again."""
        not_found = exception.ComputeInstanceNotFound(server_id=server_id)
        with clients.translate('reboot server %s' % server_id, not_found=not_found):
            self.nova.servers.reboot(server_id, reboot_type='HARD')
        self._wait_status(server_id, ('ACTIVE',), CONF.reboot_time_out, 'reboot')

    def power_off_server(self, server_id):
        """Nova's stop, waited for until the server is SHUTOFF."""
        not_found = exception.ComputeInstanceNotFound(server_id=server_id)
        if self._raw_status(server_id) != 'SHUTOFF':
            with clients.translate('stop server %s' % server_id, not_found=not_found):
                self.nova.servers.stop(server_id)
        self._wait_status(server_id, ('SHUTOFF',), CONF.reboot_time_out, 'power off')

    def power_on_server(self, server_id):
        not_found = exception.ComputeInstanceNotFound(server_id=server_id)
        if self._raw_status(server_id) == 'SHUTOFF':
            with clients.translate('start server %s' % server_id, not_found=not_found):
                self.nova.servers.start(server_id)
        self._wait_status(server_id, ('ACTIVE',), CONF.reboot_time_out, 'power on')

    def _raw_status(self, server_id):
        with clients.translate('get server %s' % server_id,
                               not_found=exception.ComputeInstanceNotFound(server_id=server_id)):
            return (self.nova.servers.get(server_id).status or '').upper()

    def _wait_status(self, server_id, wanted, timeout, what, failed=None):
        def _failed(status):
            if status == 'ERROR':
                return 'server is in ERROR'
            return failed(status) if failed else None
        return clients.wait_for(lambda: self._raw_status(server_id),
                                lambda status: status in wanted, timeout,
                                '%s of server %s' % (what, server_id),
                                failed=_failed, sleep=self.sleep)

    def resize_server(self, server_id, flavor_id):
        """Resize to ``flavor_id`` and confirm; returns when the server is ACTIVE.

        Nova stops in VERIFY_RESIZE waiting for a confirmation; the
        taskmanager stopped the engine before and checks it after, so the
        driver confirms at once and a resize is one call for its callers.
        """
        not_found = exception.ComputeInstanceNotFound(server_id=server_id)
        with clients.translate('resize server %s' % server_id, not_found=not_found):
            self.nova.servers.resize(server_id, flavor_id)
        seen = set()

        def rolled_back(status):
            # Nova answers 202 with the server in RESIZE; ACTIVE again without
            # passing VERIFY_RESIZE means the resize failed and was undone.
            seen.add(status)
            if status == 'ACTIVE' and len(seen) > 1:
                return 'resize was rolled back by Nova (see the server fault)'
            return None
        self._wait_status(server_id, ('VERIFY_RESIZE',), CONF.resize_time_out, 'resize',
                          failed=rolled_back)
        with clients.translate('confirm resize of server %s' % server_id):
            self.nova.servers.confirm_resize(server_id)
        self._wait_status(server_id, ('ACTIVE',), CONF.resize_time_out, 'resize confirmation')
        LOG.info('Resized server %s to flavor %s', server_id, flavor_id)

    # Access ----------------------------------------------------------------

    def apply_access(self, server_id, instance_id, ports, cidrs):
        """Give the server security group ``trove_sg-<instance_id>`` with these rules.

        The group's TCP ingress rules are made exactly ``ports`` x ``cidrs``;
        the group is added to the server only when it does not list it yet.
        """
        name = nova_network.group_name(instance_id)
        group = self.security_groups.ensure(name, nova_network.wanted_rules(ports, cidrs))
        server = self._built(server_id)
        present = {g.get('name') for g in getattr(server, 'security_groups', None) or ()}
        if name in present:
            return
        # By id: Nova resolves a name project-wide and refuses an ambiguous one.
        # Its 404 may mean the server, the group or the server's ports, so
        # the message is kept rather than mapped to one NotFound.
        with clients.translate('add security group %s to server %s' % (name, server_id)):
            self.nova.servers.add_security_group(server_id, group['id'])
        LOG.info('Security group %s added to server %s', name, server_id)

    def point_writer_address(self, set_id, server_id, ports):
        """A floating IP of the set on the server's port (nova_writer.py)."""
        return self.writers.point(set_id, server_id)

    def release_writer_address(self, set_id):
        if CONF.writer_floating_network:
            self.writers.release(set_id)

    def release_access(self, instance_id):
        """Delete the instance's security group (its servers are gone by now)."""
        self.security_groups.delete(nova_network.group_name(instance_id))

    def _built(self, server_id, error_ok=False):
        """The novaclient server once it has left BUILD (ERROR raises
        ComputeError unless ``error_ok``).

        Nova adds a security group to the server's ports, which exist only
        once the build has allocated its network; until then it answers 404.
        """
        not_found = exception.ComputeInstanceNotFound(server_id=server_id)

        def fetch():
            with clients.translate('get server %s' % server_id, not_found=not_found):
                return self.nova.servers.get(server_id)

        def status(server):
            return (server.status or '').upper()
        return clients.wait_for(
            fetch, lambda s: status(s) != 'BUILD' and (error_ok or status(s) != 'ERROR'),
            CONF.usage_timeout,
            'build of server %s' % server_id,
            failed=lambda s: ('server is in ERROR' if status(s) == 'ERROR' and not error_ok
                              else None),
            sleep=self.sleep)
