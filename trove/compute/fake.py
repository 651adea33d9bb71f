"""An in-memory compute driver for unit tests of the taskmanager and the API.

Servers become ACTIVE at once, every call is recorded in ``calls`` and a
test can make any method fail by putting an exception into ``failures``.
"""
import itertools
import uuid

from trove.common import exception
from trove.compute import base


class FakeDriver(base.ComputeDriver):
    """Keeps servers and volumes in dicts; shares the built-in flavor catalogue.

    ``calls`` is a list of ``(method_name, kwargs)``; ``failures`` maps a
    method name to the exception that method raises.  ``boot_status`` is the
    status new servers get (set to 'ERROR' to simulate a failed boot).
    """

    def __init__(self, flavors=None, boot_status=base.ACTIVE):
        self.flavors = list(flavors) if flavors is not None else base.builtin_flavors()
        self.boot_status = boot_status
        self.servers = {}
        self.volumes = {}
        self.files = {}
        self.calls = []
        self.failures = {}
        self._hosts = itertools.count(2)
        self.writers = {}   # set id -> (address, server id)

    def _record(self, method, **kwargs):
        self.calls.append((method, kwargs))
        if method in self.failures:
            raise self.failures[method]

    def called(self, method):
        """kwargs of every recorded call to ``method``, oldest first."""
        return [kw for name, kw in self.calls if name == method]

    def list_flavors(self):
        self._record('list_flavors')
        return list(self.flavors)

    def create_volume(self, name, size_gb):
        self._record('create_volume', name=name, size_gb=size_gb)
        vol = base.Volume(id=str(uuid.uuid4()), size=int(size_gb), status='available',
                          mount_point='/var/lib/trove/volume')
        self.volumes[vol.id] = vol
        return vol

    def delete_volume(self, volume_id):
        self._record('delete_volume', volume_id=volume_id)
        self.volumes.pop(volume_id, None)

    def create_server(self, name, flavor_id, image_id, volume_id, files, userdata, metadata):
        self._record('create_server', name=name, flavor_id=flavor_id, image_id=image_id,
                     volume_id=volume_id, files=files, userdata=userdata, metadata=metadata)
        self.get_flavor(flavor_id)
        if volume_id and volume_id not in self.volumes:
            raise exception.ComputeError(detail='volume %s not found' % volume_id)
        host = next(self._hosts)
        address = '127.77.%d.%d' % divmod(host, 256)
        server = base.Server(
            id=str(uuid.uuid4()), name=name, status=self.boot_status,
            addresses=[{'address': address, 'type': 'private', 'network': 'local'}],
            flavor_id=str(flavor_id), volume_id=volume_id, metadata=dict(metadata or {}))
        self.servers[server.id] = server
        self.files[server.id] = dict(files or {})
        if volume_id:
            self.volumes[volume_id].status = 'in-use'
        return server

    def get_server(self, server_id):
        self._record('get_server', server_id=server_id)
        try:
            return self.servers[server_id]
        except KeyError:
            raise exception.ComputeInstanceNotFound(server_id=server_id)

    def list_servers(self):
        self._record('list_servers')
        return list(self.servers.values())

    def delete_server(self, server_id):
        self._record('delete_server', server_id=server_id)
        server = self.servers.pop(server_id, None)
        if server and server.volume_id in self.volumes:
            self.volumes[server.volume_id].status = 'available'
        self.files.pop(server_id, None)

    def resize_server(self, server_id, flavor_id):
        self._record('resize_server', server_id=server_id, flavor_id=flavor_id)
        self.get_flavor(flavor_id)
        self.get_server(server_id).flavor_id = str(flavor_id)

    def extend_volume(self, volume_id, new_size_gb):
        self._record('extend_volume', volume_id=volume_id, new_size_gb=new_size_gb)
        volume = self.volumes.get(volume_id)
        if volume is None:
            raise exception.ComputeError(detail='volume %s not found' % volume_id)
        volume.size = int(new_size_gb)

    def rebuild_server(self, server_id, image_id, files):
        self._record('rebuild_server', server_id=server_id, image_id=image_id)
        self.get_server(server_id).status = base.ACTIVE
        self.files[server_id] = dict(files or {})

    def reboot_server(self, server_id):
        self._record('reboot_server', server_id=server_id)
        self.get_server(server_id).status = base.ACTIVE

    def power_off_server(self, server_id):
        self._record('power_off_server', server_id=server_id)
        self.get_server(server_id).status = base.SHUTDOWN

    def power_on_server(self, server_id):
        self._record('power_on_server', server_id=server_id)
        self.get_server(server_id).status = base.ACTIVE

    def point_writer_address(self, set_id, server_id, ports):
        self._record('point_writer_address', set_id=set_id, server_id=server_id,
                     ports=list(ports))
        address = self.writers.get(set_id, ('10.1.0.%d' % next(self._hosts), None))[0]
        self.writers[set_id] = (address, server_id)
        return address

    def release_writer_address(self, set_id):
        self._record('release_writer_address', set_id=set_id)
        self.writers.pop(set_id, None)

    def apply_access(self, server_id, instance_id, ports, cidrs):
        self._record('apply_access', server_id=server_id, instance_id=instance_id,
                     ports=list(ports), cidrs=list(cidrs))

    def release_access(self, instance_id):
        self._record('release_access', instance_id=instance_id)
