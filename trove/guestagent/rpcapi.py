"""Client of one guest agent (topic ``guestagent.<instance_id>``).

Used by the taskmanager and the API; never by the guest itself.

Version history:
  1.0 - prepare, stop_db, get_status, list_databases, list_users
  1.1 - create_database, delete_database, create_user, delete_user, get_user,
        update_attributes, change_passwords, list_access, grant_access,
        revoke_access, enable_root, enable_root_with_password, disable_root,
        is_root_enabled; list_databases and list_users take limit, marker and
        include_marker and return [items, next_marker]
  1.2 - restart, update_overrides, apply_overrides, start_db_with_conf_changes
  1.3 - create_backup (cast)
  1.4 - guest_log_list, guest_log_action
  1.5 - replication: ensure_replication_user, get_replication_position,
        attach_replica, create_replication_slot, drop_replication_slot,
        wait_for_position, set_read_only, promote_to_primary,
        demote_to_replica, detach_replica, get_replication_status
  1.6 - get_client_auth, set_client_auth (what clients log in with, shared
        by the members of a replica set when the engine does not replicate
        it: Redis)
  1.7 - set_synchronous (synchronous replication of a member)
  1.8 - set_failover_guard (a member of a highly available set keeps a
        down engine down at agent start until it is rejoined)
  1.9 - ssl_apply, ssl_disable, ssl_rollback, ssl_show (TLS of the engine;
        the PKCS#12 container travels base64-encoded, sealed like every
        guest RPC argument)
  1.10 - start_archive, stop_archive, get_archive_status (continuous
         archiving for point-in-time recovery; start_archive's optional
         start_backup names the backup an empty spool starts at); prepare's
         backup_info may carry ``pitr`` (restore to a time from the source's
         archive)

Errors: a trove.common.exception error raised in the guest (UserNotFound,
DatabaseAlreadyExists, BadRequest, EngineError...) is re-raised here as the
same class by oslo.messaging (it is the allowed remote-exception module), so
the API answers with its status.  A timeout becomes GuestTimeout and any
other remote failure GuestError.
"""
import base64

import oslo_messaging as messaging

from trove.common import exception
from trove.common import rpc
from trove.common import rpc_crypto
from trove.conf import CONF


def guest_topic(instance_id):
    return 'guestagent.%s' % instance_id


class GuestAPI:
    """Calls and casts to the agent of ``instance_id``."""

    VERSION = '1.10'

    def __init__(self, context, instance_id):
        self.context = context
        self.instance_id = instance_id
        # Every argument and reply is sealed with the instance's own key
        # (clear for keyless instances); see trove.common.rpc_crypto.
        self.client = rpc.get_client(
            guest_topic(instance_id), self.VERSION, server=instance_id,
            serializer=rpc_crypto.guest_api_serializer(instance_id))

    def _call(self, method, timeout, version='1.0', **kwargs):
        """Call ``method`` and wait at most ``timeout`` seconds."""
        cctxt = self.client.prepare(version=version, timeout=timeout)
        try:
            return cctxt.call(self.context, method, **kwargs)
        except exception.TroveError:
            raise
        except messaging.MessagingTimeout:
            raise exception.GuestTimeout()
        except messaging.RemoteError as exc:
            raise exception.GuestError(detail='%s in the guest' % exc.exc_type)

    def create_queue(self):
        """Declare the guest's queue so a prepare cast waits for the agent to boot."""
        rpc.create_queue(guest_topic(self.instance_id), self.instance_id)

    def prepare(self, *, request):
        """Cast ``prepare`` with a PrepareRequest (sent as a dict)."""
        self.client.prepare(version='1.0').cast(
            self.context, 'prepare', request=request.to_dict())

    def stop_db(self, timeout=None):
        return self._call('stop_db', timeout or CONF.agent_call_low_timeout)

    def get_status(self, timeout=None):
        """The engine's status as the guest sees it now ('healthy', ...)."""
        return self._call('get_status', timeout or CONF.agent_call_low_timeout)

    # -- databases, users and root (1.1) --------------------------------------
    # Upstream casts create/delete and loses their errors: the user gets 202
    # and never learns that the name was taken or bad.  These are calls with
    # the high timeout instead, so the API still answers 202 but only once
    # the change is visible, and a guest-side UserNotFound, BadRequest or
    # DatabaseAlreadyExists comes back as the matching 4xx.
    def _call11(self, method, timeout=None, **kwargs):
        return self._call(method, timeout or CONF.agent_call_high_timeout,
                          version='1.1', **kwargs)

    def create_database(self, *, databases):
        return self._call11('create_database', databases=databases)

    def list_databases(self, *, limit=None, marker=None, include_marker=False):
        """``[databases, next_marker]``."""
        return self._call11('list_databases', CONF.agent_call_low_timeout, limit=limit,
                            marker=marker, include_marker=include_marker)

    def delete_database(self, *, database):
        return self._call11('delete_database', database=database)

    def create_user(self, *, users):
        return self._call11('create_user', users=users)

    def list_users(self, *, limit=None, marker=None, include_marker=False):
        """``[users, next_marker]``."""
        return self._call11('list_users', limit=limit, marker=marker,
                            include_marker=include_marker)

    def get_user(self, *, username, hostname):
        return self._call11('get_user', CONF.agent_call_low_timeout,
                            username=username, hostname=hostname)

    def delete_user(self, *, user):
        return self._call11('delete_user', user=user)

    def update_attributes(self, *, username, hostname, user_attrs):
        return self._call11('update_attributes', username=username, hostname=hostname,
                            user_attrs=user_attrs)

    def change_passwords(self, *, users):
        return self._call11('change_passwords', users=users)

    def list_access(self, *, username, hostname):
        return self._call11('list_access', CONF.agent_call_low_timeout,
                            username=username, hostname=hostname)

    def grant_access(self, *, username, hostname, databases):
        return self._call11('grant_access', username=username, hostname=hostname,
                            databases=databases)

    def revoke_access(self, *, username, hostname, database):
        return self._call11('revoke_access', username=username, hostname=hostname,
                            database=database)

    def enable_root(self):
        """``{name, password}`` of the enabled root user."""
        return self._call11('enable_root')

    def enable_root_with_password(self, *, root_password):
        return self._call11('enable_root_with_password', root_password=root_password)

    def disable_root(self):
        return self._call11('disable_root')

    def is_root_enabled(self):
        return self._call11('is_root_enabled', CONF.agent_call_low_timeout)

    # -- configuration and restart (1.2) -------------------------------------
    def _call12(self, method, **kwargs):
        return self._call(method, CONF.agent_call_high_timeout, version='1.2', **kwargs)

    def restart(self):
        """Restart the engine; returns once it answers again."""
        return self._call12('restart')

    def update_overrides(self, *, overrides, remove=False):
        """Persist a configuration group's values (all of them) in the engine config."""
        return self._call12('update_overrides', overrides=overrides, remove=remove)

    def apply_overrides(self, *, overrides):
        """Set dynamic values live; a None value restores the engine default."""
        return self._call12('apply_overrides', overrides=overrides)

    def start_db_with_conf_changes(self, *, config_contents):
        """Restart the engine with a new flavor-sized configuration."""
        return self._call12('start_db_with_conf_changes', config_contents=config_contents)

    def create_backup(self, *, backup_info):
        """Cast: take the backup described by ``backup_info`` (see trove.backup.info)."""
        self.client.prepare(version='1.3').cast(
            self.context, 'create_backup', backup_info=backup_info)

    # -- guest logs (1.4) ------------------------------------------------------
    def guest_log_list(self):
        """Every log of the guest as ``[{name, type, status, published, ...}]``."""
        return self._call('guest_log_list', CONF.agent_call_low_timeout, version='1.4')

    def guest_log_action(self, *, log_name, enable=False, disable=False, publish=False,
                         discard=False):
        """Do at most one action on a log; returns the log afterwards.  A
        publish uploads to the store, so this uses the high timeout."""
        return self._call('guest_log_action', CONF.agent_call_high_timeout, version='1.4',
                          log_name=log_name, enable=enable, disable=disable,
                          publish=publish, discard=discard)

    # -- replication (1.5) -------------------------------------------------------
    # Passwords travel only in these sealed calls.  Calls that restart or
    # rewind the engine take the high timeout unless the caller gives one.
    def _call15(self, method, timeout, **kwargs):
        return self._call(method, timeout, version='1.5', **kwargs)

    def ensure_replication_user(self, *, user, password, replica_host=None):
        """On the primary: ``user`` with replication rights only; ``replica_host``
        (PostgreSQL) is the address the replicas connect from."""
        return self._call15('ensure_replication_user', CONF.agent_call_high_timeout,
                            user=user, password=password, replica_host=replica_host)

    def get_replication_position(self, *, snapshot=False):
        """The member's position dict; ``snapshot`` on a primary: where a
        replica made now starts."""
        return self._call15('get_replication_position', CONF.agent_call_low_timeout,
                            snapshot=snapshot)

    def attach_replica(self, *, primary_host, primary_port, user, password,
                       position=None, slot=None, timeout=None):
        """On a replica restored from a backup of the primary: follow it."""
        return self._call15('attach_replica', timeout or CONF.agent_call_high_timeout,
                            primary_host=primary_host, primary_port=primary_port,
                            user=user, password=password, position=position, slot=slot)

    def create_replication_slot(self, *, name):
        return self._call15('create_replication_slot', CONF.agent_call_low_timeout,
                            name=name)

    def drop_replication_slot(self, *, name):
        return self._call15('drop_replication_slot', CONF.agent_call_low_timeout,
                            name=name)

    def wait_for_position(self, *, position, timeout):
        """True once the member applied ``position``; False after ``timeout`` s."""
        return self._call15('wait_for_position', timeout + CONF.agent_call_low_timeout,
                            position=position, wait_timeout=timeout)

    def set_read_only(self, *, read_only):
        return self._call15('set_read_only', CONF.agent_call_high_timeout,
                            read_only=read_only)

    def promote_to_primary(self, *, timeout=None):
        return self._call15('promote_to_primary', timeout or CONF.agent_call_high_timeout)

    def demote_to_replica(self, *, primary_host, primary_port, user, password, slot=None,
                          timeout=None):
        """On an old primary: become a read-only replica of the new primary."""
        return self._call15('demote_to_replica', timeout or CONF.agent_call_high_timeout,
                            primary_host=primary_host, primary_port=primary_port,
                            user=user, password=password, slot=slot)

    def detach_replica(self, *, timeout=None):
        return self._call15('detach_replica', timeout or CONF.agent_call_high_timeout)

    def get_client_auth(self):
        """(1.6) ``{'password', 'root_enabled'}`` (Redis) or None."""
        return self._call('get_client_auth', CONF.agent_call_low_timeout, version='1.6')

    def set_client_auth(self, *, auth):
        return self._call('set_client_auth', CONF.agent_call_high_timeout, version='1.6',
                          auth=auth)

    def set_synchronous(self, *, enabled, fallback_timeout):
        """(1.7) Synchronous replication on or off (every member of a set);
        ``fallback_timeout``: seconds a commit waits for a replica where the
        engine falls back to asynchronous (MariaDB)."""
        return self._call('set_synchronous', CONF.agent_call_high_timeout, version='1.7',
                          enabled=enabled, fallback_timeout=fallback_timeout)

    def set_failover_guard(self, *, enabled):
        """(1.8) Guard on or off (every member of a highly available set)."""
        return self._call('set_failover_guard', CONF.agent_call_low_timeout, version='1.8',
                          enabled=enabled)

    def get_replication_status(self):
        """``{role, following, healthy, lag, error, read_only, position}``."""
        return self._call15('get_replication_status', CONF.agent_call_low_timeout)

    # -- TLS (1.9) ---------------------------------------------------------
    def ssl_apply(self, *, mode, p12, password=None):
        """Serve the certificate of PKCS#12 ``p12`` (bytes) in ``mode``;
        ``{status, mode, subject, ..., restart_required}``."""
        return self._call('ssl_apply', CONF.agent_call_high_timeout, version='1.9',
                          mode=mode, p12=base64.b64encode(p12).decode(), password=password)

    def ssl_disable(self):
        return self._call('ssl_disable', CONF.agent_call_high_timeout, version='1.9')

    def ssl_rollback(self):
        """Back to the state before the last apply or disable (once)."""
        return self._call('ssl_rollback', CONF.agent_call_high_timeout, version='1.9')

    def ssl_show(self, *, include_certificate=False):
        return self._call('ssl_show', CONF.agent_call_low_timeout, version='1.9',
                          include_certificate=include_certificate)
    # -- continuous archiving (1.10) ----------------------------------------
    def start_archive(self, *, container, prefix, storage_driver=None, start_backup=None):
        """(1.10) Start shipping the change log into ``container``/``prefix``;
        ``start_backup``: the store location of the backup it starts with."""
        extra = {'start_backup': start_backup} if start_backup else {}
        return self._call('start_archive', CONF.agent_call_low_timeout, version='1.10',
                          container=container, prefix=prefix, storage_driver=storage_driver,
                          **extra)

    def stop_archive(self):
        """(1.10) Stop shipping and release what the stream held on the engine."""
        return self._call('stop_archive', CONF.agent_call_low_timeout, version='1.10')

    def get_archive_status(self):
        """(1.10) ``{enabled, latest_restorable_time}`` of the guest's archive."""
        return self._call('get_archive_status', CONF.agent_call_low_timeout, version='1.10')
