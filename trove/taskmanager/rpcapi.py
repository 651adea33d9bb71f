"""Client of the taskmanager, used by the API.  Every method is a cast.

Version history:
  1.0 - create_instance, delete_instance
  1.1 - restart, resize_flavor, resize_volume, apply_configuration
  1.2 - create_backup, delete_backup; create_instance takes backup_id
  1.3 - reboot (mgmt: stop the engine, reboot the server, wait for the guest)
  1.4 - update_access (apply an instance's stored access to its server)
  1.5 - upgrade, rebuild (a new server image for an instance in UPGRADING)
  1.6 - create_replica, detach_replica, promote_to_replica_source,
        eject_replica_source
  1.7 - apply_high_availability (push a replica set's failover guard and
        synchronous mode to its members)
  1.8 - create_replica takes ``tls`` (the primary's TLS for the new
        replica: mode, refs, the PKCS#12 container as base64 and its
        password; only in this sealed cast and the encrypted task request)
  1.9 - apply_pitr (start or stop an instance's continuous archive);
        create_instance takes pitr (restore to a time: restore_time and the
        source's archive)

apply_configuration is a call with a short timeout (the same 1.1 method on
the server): as upstream, PUT /instances/{id} and PATCH /configurations/{id}
answer once dynamic values are live in the engine.  A timeout only means
the answer comes first; the taskmanager finishes the work anyway.
"""
import oslo_messaging as messaging
from oslo_log import log as logging

from trove.common import rpc
from trove.common import rpc_crypto
from trove.conf import CONF

LOG = logging.getLogger(__name__)


class TaskManagerAPI:
    """Casts long work to the taskmanager."""

    VERSION = '1.9'

    def __init__(self, context):
        self.context = context
        self.client = rpc.get_client(CONF.taskmanager_queue, self.VERSION,
                                     serializer=rpc_crypto.taskmanager_serializer())

    def create_instance(self, *, instance_id, flavor, datastore_manager, ds_version,
                        image_id, databases, users, volume_size, root_password=None,
                        overrides=None, backup_id=None, pitr=None):
        """Build the server, volume and guest of an instance already in BUILDING;
        ``backup_id`` (1.2) restores that backup into it, replayed up to a
        time from the source's archive with ``pitr`` (1.8)."""
        extra = {'backup_id': backup_id} if backup_id else {}
        if pitr:
            extra['pitr'] = pitr
        version = '1.9' if pitr else '1.2' if backup_id else '1.0'
        self.client.prepare(version=version).cast(
            self.context, 'create_instance', instance_id=instance_id, flavor=flavor,
            datastore_manager=datastore_manager, ds_version=ds_version,
            image_id=image_id, databases=databases, users=users,
            volume_size=volume_size, root_password=root_password,
            overrides=overrides or {}, **extra)

    def delete_instance(self, *, instance_id):
        """Tear down everything of an instance already in DELETING."""
        self.client.prepare(version='1.0').cast(
            self.context, 'delete_instance', instance_id=instance_id)

    def restart(self, *, instance_id):
        """Restart the engine of an instance already in REBOOTING."""
        self.client.prepare(version='1.1').cast(
            self.context, 'restart', instance_id=instance_id)

    def reboot(self, *, instance_id):
        """Reboot the server of an instance already in REBOOTING (1.3)."""
        self.client.prepare(version='1.3').cast(
            self.context, 'reboot', instance_id=instance_id)

    def resize_flavor(self, *, instance_id, old_flavor, new_flavor):
        """Move an instance already in RESIZING to ``new_flavor`` (flavor dicts)."""
        self.client.prepare(version='1.1').cast(
            self.context, 'resize_flavor', instance_id=instance_id,
            old_flavor=old_flavor, new_flavor=new_flavor)

    def resize_volume(self, *, instance_id, new_size):
        """Grow the volume of an instance already in RESIZING."""
        self.client.prepare(version='1.1').cast(
            self.context, 'resize_volume', instance_id=instance_id, new_size=new_size)

    def apply_configuration(self, *, instance_id, old_values, new_values):
        """Bring an instance's engine config from ``old_values`` to ``new_values``;
        returns once it is applied (or after ``configuration_apply_timeout``)."""
        cctxt = self.client.prepare(version='1.1',
                                    timeout=CONF.configuration_apply_timeout)
        try:
            cctxt.call(self.context, 'apply_configuration', instance_id=instance_id,
                       old_values=old_values, new_values=new_values)
        except messaging.MessagingTimeout:
            LOG.warning('Configuration of %s still being applied after %ss; answering',
                        instance_id, CONF.configuration_apply_timeout)

    def create_backup(self, *, backup_info, instance_id):
        """Have the guest of ``instance_id`` take the backup (already NEW)."""
        self.client.prepare(version='1.2').cast(
            self.context, 'create_backup', backup_info=backup_info, instance_id=instance_id)

    def delete_backup(self, *, backup_id):
        """Remove a backup and its incrementals: objects, then records."""
        self.client.prepare(version='1.2').cast(
            self.context, 'delete_backup', backup_id=backup_id)

    def update_access(self, *, instance_id):
        """Apply the stored ``access`` of an instance to its server (1.4)."""
        self.client.prepare(version='1.4').cast(
            self.context, 'update_access', instance_id=instance_id)

    def apply_high_availability(self, *, instance_id):
        """Push the synchronous mode of primary ``instance_id``'s set to every
        member (1.7)."""
        self.client.prepare(version='1.7').cast(
            self.context, 'apply_high_availability', instance_id=instance_id)

    def apply_pitr(self, *, instance_id):
        """Start or stop the continuous archive as the instance's row says (1.9)."""
        self.client.prepare(version='1.9').cast(
            self.context, 'apply_pitr', instance_id=instance_id)

    def upgrade(self, *, instance_id, image_id, datastore_version_id):
        """Rebuild an instance in UPGRADING on a new version's image (1.5)."""
        self.client.prepare(version='1.5').cast(
            self.context, 'upgrade', instance_id=instance_id, image_id=image_id,
            datastore_version_id=datastore_version_id)

    def rebuild(self, *, instance_id, image_id, datastore_version_id):
        """Rebuild an instance in UPGRADING on another image (1.5)."""
        self.client.prepare(version='1.5').cast(
            self.context, 'rebuild', instance_id=instance_id, image_id=image_id,
            datastore_version_id=datastore_version_id)

    # -- replication (1.6) ----------------------------------------------------------
    def create_replica(self, *, instance_id, primary_id, flavor, datastore_manager,
                       ds_version, image_id, volume_size, overrides=None, tls=None):
        """Build replica ``instance_id`` (in BUILDING) of ``primary_id``;
        with ``tls`` (1.8) it serves its primary's certificate."""
        kwargs = dict(instance_id=instance_id, primary_id=primary_id, flavor=flavor,
                      datastore_manager=datastore_manager, ds_version=ds_version,
                      image_id=image_id, volume_size=volume_size, overrides=overrides or {})
        version = '1.6'
        if tls:
            kwargs['tls'], version = tls, '1.8'
        self.client.prepare(version=version).cast(self.context, 'create_replica', **kwargs)

    def _cast16(self, method, instance_id):
        self.client.prepare(version='1.6').cast(self.context, method, instance_id=instance_id)

    def detach_replica(self, *, instance_id):
        """Make a replica in DETACHING a standalone instance."""
        self._cast16('detach_replica', instance_id)

    def promote_to_replica_source(self, *, instance_id):
        """Switch over to the replica in PROMOTING."""
        self._cast16('promote_to_replica_source', instance_id)

    def eject_replica_source(self, *, instance_id):
        """Replace the failed primary in EJECTING by its most advanced replica."""
        self._cast16('eject_replica_source', instance_id)
