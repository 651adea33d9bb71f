"""RPC endpoint of a guest agent: topic ``guestagent.<instance_id>``.

It owns one engine (chosen by ``datastore_manager``) and reports its status
to the conductor.  Prepare runs once; a marker file in the state directory
records that it finished so an agent restart does not prepare again.
"""
import os
import threading
import time
import traceback

import oslo_messaging as messaging
from oslo_log import log as logging

from trove.common import exception
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent import archive_rpc
from trove.guestagent import backup as guest_backup
from trove.guestagent import engine_watch
from trove.guestagent import engines
from trove.guestagent import guest_log
from trove.guestagent import heartbeat
from trove.guestagent import replication_report
from trove.guestagent import replication_rpc
from trove.guestagent import tls_rpc
from trove.guestagent import warm_up
from trove.guestagent.backup import runner as backup_runner
from trove.guestagent.engine_op import engine_op as _engine_op

LOG = logging.getLogger(__name__)


# Engine statuses in which a replica's stream is worth reading.
_UP = ('healthy', 'running')


def _marker():
    return warm_up.prepared_marker()


def _db_key(db):
    return db['name']


def _user_key(user):
    return '%s@%s' % (user.get('name'), user.get('host') or '%')


def _refuse_existing(keys, existing, error):
    seen = set()
    for key in keys:
        if key in existing or key in seen:
            raise error(name=key)
        seen.add(key)


def paginate(items, key, limit=None, marker=None, include_marker=False):
    """One page of ``items`` sorted by ``key``: ``[page, next_marker or None]``."""
    items = sorted(items, key=key)
    if marker is not None:
        items = [i for i in items
                 if key(i) > marker or (include_marker and key(i) == marker)]
    if limit and limit > 0 and len(items) > limit:
        return [items[:limit], key(items[limit - 1])]
    return [items, None]


class Manager(replication_rpc.ReplicationEndpoints, tls_rpc.TlsEndpoints,
              archive_rpc.ArchiveEndpoints):
    """Engine-independent guest operations."""

    # The newest GuestAPI version served (see guestagent/rpcapi.py);
    # oslo.messaging refuses calls of a newer minor than this.
    target = messaging.Target(version='1.10')

    def __init__(self, engine=None, reporter=None, spare=None, warm=None):
        self.engine = engine or engines.load_engine(CONF.datastore_manager)
        # The claimed spare (trove.guestagent.spare) whose engine already runs.
        self.spare = spare
        self.reporter = reporter or heartbeat.Reporter()
        self.stream = replication_report.StreamReport()
        self._lock = threading.Lock()
        # The engine's warm-up (trove.guestagent.warm_up), perhaps started
        # before this manager was imported; prepare waits for a running one.
        self._warm = warm or warm_up.WarmUp()
        self._backup_lock = threading.Lock()
        self.running_backup = None
        self.logs = guest_log.GuestLogs(self.engine)
        self.preparing = False
        # Restarts a crashed engine (trove.guestagent.engine_watch); every
        # deliberate stop or start below runs inside watch.quiet().
        self.watch = engine_watch.EngineWatch(
            self.engine, self.reporter, active=lambda: self.prepared and not self.preparing,
            report=self.report)

    @property
    def prepared(self):
        return os.path.exists(_marker())

    def start_warm_up(self):
        """At agent boot: let the engine do request-independent setup now."""
        if self.prepared or self.spare is not None:
            return
        self._warm.start(self.engine)

    def prepare(self, context, request):
        """Install, configure and start the engine, then create dbs and users."""
        req = PrepareRequest.from_dict(request)
        self._warm.wait(CONF.state_change_wait_time)
        with self._lock:
            if self.prepared:
                LOG.info('Prepare already done; ignoring a repeated prepare')
                self.report()
                return
            self.preparing = True
            try:
                self.reporter.send('building')
                if self.spare is not None and self.spare.needs_restart(req):
                    # The spare's engine runs with the spare's configuration.
                    LOG.info('Stopping the spare engine to reconfigure it')
                    self.engine.stop()
                if req.backup_info:
                    # Fills the datadir; the engine's prepare then finds it
                    # initialised and only starts and re-secures it.
                    restore_strategy = guest_backup.get_strategy(CONF.datastore_manager,
                                                                 self.engine)
                    restore_strategy.as_replica = req.replica
                    if req.backup_info.get('pitr'):
                        # Imported here: it loads the archive shipper, which
                        # a build that restores no archive never needs.
                        from trove.guestagent.archive import restore as archive_restore
                        archive_restore.run_pitr_restore(self.engine, CONF.datastore_manager,
                                                         restore_strategy, req.backup_info)
                    else:
                        backup_runner.run_restore(restore_strategy, req.backup_info)
                self.engine.prepare(req)
                if req.backup_info and not req.replica:
                    # A replica stays an exact copy of its primary's data.
                    restore_strategy.after_restore(req)
            except Exception as exc:
                LOG.exception('Prepare failed')
                msg = getattr(exc, 'msg', None) or str(exc) or exc.__class__.__name__
                # Whole (process errors carry the tail of stderr): the fault is
                # where the user learns why, e.g. what mariadb-install-db said.
                self.reporter.error('Prepare failed: %s' % msg[:4000],
                                    details=traceback.format_exc()[-8000:])
                self.reporter.send('failed to spawn')
                return
            finally:
                self.preparing = False
            os.makedirs(CONF.guest_state_dir, exist_ok=True)
            with open(_marker(), 'w') as f:
                f.write('done\n')
        LOG.info('Prepare finished')
        # A new instance that is not a replica has no stream to read: its
        # first heartbeat goes out without the replication queries, which
        # under load took seconds of the build (the periodic ones read it).
        self.report(read_stream=req.replica)

    def report(self, read_stream=True):
        """Send one heartbeat with the engine's current status (after prepare
        only); with ``read_stream`` also a replica's stream report."""
        if not self.prepared or self.preparing:
            return
        # Stamped before the engine is asked, not when the report is cast:
        # the heartbeat thread and the engine watch report concurrently, and
        # a 'healthy' read just before a crash, cast after the watch's
        # 'crashed' (its stream query took a while), must not be the newer
        # one at the conductor.  A read that begins later is stamped later.
        sent = time.time()
        try:
            status = self.engine.status()
        except Exception:
            LOG.exception('Could not read the engine status')
            status = 'unknown'
        stream = None
        if status in _UP and read_stream:
            stream = self.stream.read(self.engine)
            if self.stream.newly_broken(stream):
                self.reporter.error('Replication from %s is broken: %s' % (
                    stream['following'], stream['error'] or 'the stream is down'))
            if stream and stream['broken']:
                status = replication_report.BROKEN
        self.reporter.send(status, replication=stream, sent=sent,
                           archive_latest=self.get_archive_status()['latest_restorable_time'])

    def recover(self):
        """After an agent (re)start: bring a prepared engine back up (and
        the continuous archive it was shipping)."""
        if not self.prepared:
            return
        try:
            self.resume_archive()
        except exception.TroveError:
            LOG.exception('The continuous archive did not resume')
        if self.engine.status() in engine_watch.DOWN and self._held():
            LOG.warning('Engine is down and this member of a highly available set may '
                        'have been failed over while it was away: it stays down until '
                        'the control plane makes it a replica or restarts it')
            with self.watch.quiet(wanted_up=False):
                pass
            self.report()
            return
        with self.watch.quiet(wanted_up=True):
            if self.engine.status() in engine_watch.DOWN:
                LOG.info('Engine is down after an agent start; starting it')
                try:
                    self.engine.start()
                except exception.TroveError:
                    LOG.exception('Engine did not start')
        self.report()

    def _held(self):
        """See trove.guestagent.engines.replication.Replication.held."""
        replication = getattr(self.engine, 'replication', None)
        if replication is None:
            return False
        try:
            return replication.held()
        except Exception:
            LOG.exception('Could not read the failover guard; starting the engine')
            return False

    def create_backup(self, context, backup_info):
        """Cast (1.3): stream a backup into the store, reporting to the conductor."""
        if backup_info['id'] == self.running_backup:
            # A restarted taskmanager re-sends backups it saw in NEW.
            LOG.info('Backup %s is running already; ignoring a repeated cast',
                     backup_info['id'])
            return
        if not self._backup_lock.acquire(blocking=False):
            LOG.warning('Backup %s refused: another backup is running', backup_info['id'])
            self.reporter.conductor.update_backup(
                instance_id=CONF.guest_id, backup_id=backup_info['id'], state='FAILED')
            return
        self.running_backup = backup_info['id']
        try:
            try:
                strategy = guest_backup.get_strategy(CONF.datastore_manager, self.engine)
            except exception.TroveError as exc:
                LOG.error('Backup %s: %s', backup_info['id'], exc.msg)
                self.reporter.conductor.update_backup(
                    instance_id=CONF.guest_id, backup_id=backup_info['id'], state='FAILED')
                return
            backup_runner.run_backup(strategy, backup_info, self.reporter.conductor)
        finally:
            self.running_backup = None
            self._backup_lock.release()

    def get_status(self, context):
        return self.engine.status()

    def stop_db(self, context):
        """Stop the engine; it stays down (not healed) until a start or restart."""
        with self.watch.quiet(wanted_up=False):
            self.engine.stop()
        self.report()

    # -- databases, users and root (RPC 1.1) -------------------------------
    # Every one is a call: errors such as UserNotFound travel back to the
    # API as the same exception class (see guestagent/rpcapi.py).
    @_engine_op
    def create_database(self, context, databases):
        """Create databases; DatabaseAlreadyExists if one is already there."""
        existing = {db['name'] for db in self.engine.list_databases()}
        _refuse_existing([db.get('name') for db in databases], existing,
                         exception.DatabaseAlreadyExists)
        self.engine.create_databases(databases)

    @_engine_op
    def list_databases(self, context, limit=None, marker=None, include_marker=False):
        """``[databases, next_marker]`` sorted by name; the marker is a name."""
        return paginate(self.engine.list_databases(), _db_key, limit, marker,
                        include_marker)

    @_engine_op
    def delete_database(self, context, database):
        self.engine.delete_database(database['name'])

    @_engine_op
    def create_user(self, context, users):
        """Create users with their grants; UserAlreadyExists if one is there."""
        existing = {_user_key(u) for u in self.engine.list_users()}
        _refuse_existing([_user_key(u) for u in users], existing,
                         exception.UserAlreadyExists)
        self.engine.create_users(users)

    @_engine_op
    def list_users(self, context, limit=None, marker=None, include_marker=False):
        """``[users, next_marker]`` sorted by ``name@host``, the marker format."""
        return paginate(self.engine.list_users(), _user_key, limit, marker,
                        include_marker)

    @_engine_op
    def get_user(self, context, username, hostname):
        return self.engine.get_user(username, hostname or '%')

    @_engine_op
    def delete_user(self, context, user):
        self.engine.delete_user(user['name'], user.get('host') or '%')

    @_engine_op
    def update_attributes(self, context, username, hostname, user_attrs):
        self.engine.update_user(username, hostname or '%', new_name=user_attrs.get('name'),
                                new_host=user_attrs.get('host'),
                                new_password=user_attrs.get('password'))

    @_engine_op
    def change_passwords(self, context, users):
        self.engine.change_passwords(users)

    @_engine_op
    def list_access(self, context, username, hostname):
        return self.engine.list_access(username, hostname or '%')

    @_engine_op
    def grant_access(self, context, username, hostname, databases):
        self.engine.grant_access(username, hostname or '%', list(databases))

    @_engine_op
    def revoke_access(self, context, username, hostname, database):
        self.engine.revoke_access(username, hostname or '%', database)

    @_engine_op
    def enable_root(self, context):
        """Enable root with a generated password; returns ``{name, password}``."""
        return self.engine.enable_root()

    @_engine_op
    def enable_root_with_password(self, context, root_password):
        return self.engine.enable_root(root_password)

    @_engine_op
    def disable_root(self, context):
        self.engine.disable_root()

    @_engine_op
    def is_root_enabled(self, context):
        return self.engine.is_root_enabled()

    # -- configuration and restart (RPC 1.2) ---------------------------------
    @_engine_op
    def restart(self, context):
        """Stop and start the engine, then report its status at once."""
        with self.watch.quiet(wanted_up=True):
            self.engine.restart()
        self.report()

    @_engine_op
    def update_overrides(self, context, overrides, remove=False):
        with self.watch.quiet():
            self.engine.update_overrides(overrides, remove)

    @_engine_op
    def apply_overrides(self, context, overrides):
        with self.watch.quiet():
            self.engine.apply_overrides(overrides)

    @_engine_op
    def start_db_with_conf_changes(self, context, config_contents):
        with self.watch.quiet(wanted_up=True):
            self.engine.start_db_with_conf_changes(config_contents)
        self.report()

    # -- guest logs (RPC 1.4) --------------------------------------------------
    # SYS logs are listed too: the API decides who may see them.
    @_engine_op
    def guest_log_list(self, context):
        return self.logs.list()

    @_engine_op
    def guest_log_action(self, context, log_name, enable=False, disable=False,
                         publish=False, discard=False):
        with self.watch.quiet():
            return self.logs.action(log_name, enable=enable, disable=disable,
                                    publish=publish, discard=discard)
