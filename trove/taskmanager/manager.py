"""RPC endpoint of the taskmanager (topic ``taskmanager``).

Endpoints are thin: each turns the cast into a flow in ``flows/``.  Casts run
on executor threads, so a long build does not block other work.
"""
import contextlib

import oslo_messaging as messaging
from oslo_log import log as logging
from trove import compute
from trove.common import coordination
from trove.common import states
from trove.common.locks import instance_lock
from trove.db import task_requests
from trove.taskmanager import recovery
from trove.taskmanager.flows import configuration, create, delete, resize
from trove.taskmanager.flows import access as access_flow
from trove.taskmanager.flows import backup as backup_flow
from trove.taskmanager.flows import failover as failover_flow
from trove.taskmanager.flows import high_availability
from trove.taskmanager.flows import pitr as pitr_flow
from trove.taskmanager.flows import rebuild as rebuild_flow
from trove.taskmanager.flows import replication
from trove.taskmanager.flows import restart as restart_flow

LOG = logging.getLogger(__name__)
Task = states.InstanceTask


@contextlib.contextmanager
def _running(instance_id, action):
    """Hold the instance's lock while a flow runs; with several taskmanagers,
    record this one as the owner of the instance's stored ``action``, which
    the others take over if it dies (trove.taskmanager.takeover)."""
    with instance_lock(instance_id):
        if action and coordination.enabled():
            task_requests.own(instance_id, action, coordination.member_id())
        yield


class Manager:
    """Taskmanager operations."""

    # Highest RPC version served; see rpcapi.py for the history.
    target = messaging.Target(version='1.9')

    def __init__(self, driver=None):
        self.driver = driver or compute.get_driver()

    def create_instance(self, context, instance_id, flavor, datastore_manager, ds_version,
                        image_id=None, databases=None, users=None, volume_size=None,
                        root_password=None, overrides=None, backup_id=None, pitr=None):
        req = create.CreateRequest(
            instance_id=instance_id, flavor=flavor, datastore_manager=datastore_manager,
            ds_version=ds_version, image_id=image_id, databases=databases or [],
            users=users or [], volume_size=volume_size, root_password=root_password,
            overrides=overrides or {}, backup_id=backup_id, pitr=pitr)
        with _running(instance_id, 'create_instance'):
            create.create_instance(context, self.driver, req)
            pitr_flow.after_create(context, instance_id)

    def apply_pitr(self, context, instance_id):
        """(1.8) Make the guest archive, or stop, as the instance's row says."""
        with _running(instance_id, None):
            pitr_flow.apply(context, instance_id)

    def delete_instance(self, context, instance_id):
        with _running(instance_id, 'delete_instance'):
            delete.delete_instance(context, self.driver, instance_id)

    def create_backup(self, context, backup_info, instance_id):
        backup_flow.create_backup(context, backup_info, instance_id)

    def delete_backup(self, context, backup_id):
        backup_flow.delete_backup(context, backup_id)

    def restart(self, context, instance_id):
        with _running(instance_id, 'restart'):
            restart_flow.restart(context, instance_id)

    def reboot(self, context, instance_id):
        with _running(instance_id, 'reboot'):
            restart_flow.reboot(context, self.driver, instance_id)

    def resize_flavor(self, context, instance_id, old_flavor, new_flavor):
        with _running(instance_id, 'resize_flavor'):
            resize.resize_flavor(context, self.driver, resize.FlavorResize(
                instance_id=instance_id, old_flavor=old_flavor, new_flavor=new_flavor))

    def resize_volume(self, context, instance_id, new_size):
        with _running(instance_id, 'resize_volume'):
            resize.resize_volume(context, self.driver, instance_id, new_size)

    def apply_configuration(self, context, instance_id, old_values=None, new_values=None):
        change = configuration.ConfigurationChange(
            instance_id=instance_id, old_values=old_values or {}, new_values=new_values or {})
        with _running(instance_id, 'apply_configuration'):
            configuration.apply_configuration(context, self.driver, change)

    def upgrade(self, context, instance_id, image_id, datastore_version_id):
        """Rebuild on a new datastore version's image, data kept (1.5)."""
        self._rebuild(context, instance_id, image_id, datastore_version_id, 'upgrade')

    def rebuild(self, context, instance_id, image_id, datastore_version_id):
        """Rebuild on another image, same version, data kept (1.5)."""
        self._rebuild(context, instance_id, image_id, datastore_version_id, 'rebuild')

    def _rebuild(self, context, instance_id, image_id, datastore_version_id, action):
        with _running(instance_id, action):
            rebuild_flow.rebuild(context, self.driver, rebuild_flow.RebuildRequest(
                instance_id=instance_id, image_id=image_id,
                datastore_version_id=datastore_version_id, action=action))

    # -- replication (1.6) --------------------------------------------------------
    def create_replica(self, context, instance_id, primary_id, flavor, datastore_manager,
                       ds_version, image_id=None, volume_size=None, overrides=None,
                       tls=None):
        """Build replica ``instance_id`` of ``primary_id`` from a snapshot of it
        (serving the primary's TLS when ``tls`` is given)."""
        req = create.CreateRequest(
            instance_id=instance_id, flavor=flavor, datastore_manager=datastore_manager,
            ds_version=ds_version, image_id=image_id, volume_size=volume_size,
            overrides=overrides or {})
        with _running(instance_id, 'create_replica'):
            replication.create_replica(context, self.driver, req, primary_id, tls=tls)

    def detach_replica(self, context, instance_id):
        with _running(instance_id, 'detach_replica'):
            replication.detach(context, instance_id)

    def promote_to_replica_source(self, context, instance_id):
        with _running(instance_id, 'promote_to_replica_source'):
            replication.promote(context, instance_id, self.driver)

    def eject_replica_source(self, context, instance_id):
        with _running(instance_id, 'eject_replica_source'):
            replication.eject(context, instance_id, self.driver)

    def fail_over(self, context, instance_id, reason, last_seen=None, guest_silent=False):
        """Automatic failover of a failed primary (started by failover_watch)."""
        with _running(instance_id, failover_flow.ACTION):
            failover_flow.fail_over(context, self.driver, instance_id, reason, last_seen,
                                    guest_silent=guest_silent)

    def apply_high_availability(self, context, instance_id):
        """Failover guard and synchronous mode of a replica set on every
        member (no task claimed)."""
        with _running(instance_id, None):
            high_availability.apply(context, instance_id, self.driver)

    def update_access(self, context, instance_id):
        with _running(instance_id, None):
            access_flow.update_access(context, self.driver, instance_id)

    @staticmethod
    def lock(instance_id):
        """The per-instance lock every endpoint holds while its flow runs."""
        return instance_lock(instance_id)

    def recover(self):
        """Finish what a previous taskmanager process left (see recovery.py)."""
        recovery.recover(self)
