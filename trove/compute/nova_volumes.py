"""Cinder volumes of the ``nova`` driver: create, extend, detach and delete."""
from oslo_log import log as logging

from trove.common import exception
from trove.compute import base
from trove.compute import nova_clients as clients
from trove.compute import nova_userdata
from trove.conf import CONF

LOG = logging.getLogger(__name__)

AVAILABLE = 'available'
IN_USE = 'in-use'
# States a volume never leaves by itself.
_ERROR_STATES = ('error', 'error_deleting', 'error_extending', 'error_restoring')


def to_volume(vol):
    """A driver-neutral :class:`base.Volume` from a cinderclient volume."""
    return base.Volume(id=vol.id, size=int(vol.size), status=vol.status,
                       mount_point=nova_userdata.MOUNT_POINT)


def _failed(vol):
    if vol.status in _ERROR_STATES:
        return 'volume %s is in status %s' % (vol.id, vol.status)
    return None


class Volumes:
    """Volume operations over a cinderclient and (for detaching) a novaclient."""

    def __init__(self, cinder, nova, sleep):
        self.cinder = cinder
        self.nova = nova
        self.sleep = sleep

    def _get(self, volume_id):
        with clients.translate('get volume %s' % volume_id):
            return self.cinder.volumes.get(volume_id)

    def _wait(self, volume_id, done, what, timeout=None):
        return clients.wait_for(lambda: self._get(volume_id), done,
                                timeout or CONF.volume_time_out, what,
                                failed=_failed, sleep=self.sleep)

    def create(self, name, size_gb):
        """Create a volume and wait until Cinder calls it available."""
        with clients.translate('create volume %s' % name):
            vol = self.cinder.volumes.create(size=int(size_gb), name=name,
                                             volume_type=CONF.cinder_volume_type)
        LOG.info('Created volume %s (%s GB) as %s', name, size_gb, vol.id)
        vol = self._wait(vol.id, lambda v: v.status == AVAILABLE,
                         'volume %s did not become available' % vol.id)
        return to_volume(vol)

    def delete(self, volume_id):
        """Detach the volume from any server, then delete it (unknown: done)."""
        with clients.translate('get volume %s' % volume_id):
            try:
                vol = self.cinder.volumes.get(volume_id)
            except clients.NOT_FOUND:
                return
        if vol.status == IN_USE or vol.attachments:
            self._detach(vol)
        with clients.translate('delete volume %s' % volume_id):
            try:
                self.cinder.volumes.delete(volume_id)
            except clients.NOT_FOUND:
                return
        LOG.info('Deleted volume %s', volume_id)

    def _detach(self, vol):
        for attachment in vol.attachments or ():
            server_id = attachment.get('server_id')
            with clients.translate('detach volume %s' % vol.id):
                try:
                    self.nova.volumes.delete_server_volume(server_id, vol.id)
                except clients.NOT_FOUND:
                    pass  # the server or the attachment is already gone
        self._wait(vol.id, lambda v: v.status == AVAILABLE,
                   'volume %s was not detached' % vol.id)

    def extend(self, volume_id, new_size):
        """Grow a volume (attached or not) and wait until Cinder reports the size."""
        with clients.translate('extend volume %s' % volume_id,
                               not_found=exception.NotFound(uuid=volume_id)):
            self.cinder.volumes.extend(volume_id, int(new_size))
        vol = self._wait(
            volume_id,
            lambda v: v.status in (AVAILABLE, IN_USE) and int(v.size) == int(new_size),
            'volume %s was not extended to %s GB' % (volume_id, new_size),
            timeout=CONF.resize_time_out)
        return to_volume(vol)
