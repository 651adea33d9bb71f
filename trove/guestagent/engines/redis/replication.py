"""Redis replication behind the engine replication interface.

A replica runs ``REPLICAOF host port`` with ``replica-read-only yes`` and
authenticates as an ACL user that may only replicate (``+psync +replconf
+ping``).  Everything is applied live and persisted in
conf.d/40-replication.conf, which redis.conf includes; that file and the
agent's state file hold the replication password, so both are 0600 and
belong to the engine user, like redis.conf with its requirepass.  The ACL
user is defined on every member (by SHA-256, never in clear), so a promoted
replica already accepts the others.

A primary has no read-only switch in Redis; ``set_read_only`` fences writes
with ``min-replicas-to-write`` set beyond any replica count (writes fail with
NOREPLICAS) until it is lifted.

Positions are ``{'offset': N, 'replid': '...'}``; offsets continue across a
promotion (the new primary keeps the old history as replid2), so ``compare``
orders by offset alone.
"""
import hashlib
import os

from oslo_log import log as logging

from trove.common import exception
from trove.common import positions
from trove.guestagent.engines import process
from trove.guestagent.engines import replication as base
from trove.guestagent.engines.common import files
from trove.guestagent.engines.common import names
from trove.guestagent.engines.redis import app as app_mod

LOG = logging.getLogger(__name__)
REPLICATION_FILE = '40-replication.conf'
FENCE = 1000000  # min-replicas-to-write no replica set reaches
REPLICA_RIGHTS = '+psync +replconf +ping'


def _quote(text):
    return '"%s"' % str(text).replace('\\', '\\\\').replace('"', '\\"')


def render_replication_conf(state):
    """conf.d/40-replication.conf from the agent's replication state."""
    lines = ['# Replication, written by the trove guest agent.']
    if state.get('user'):
        lines.append('user %s reset on #%s %s' % (state['user'], state['user_hash'],
                                                 REPLICA_RIGHTS))
    following = state.get('following')
    if following:
        host, port, user = following
        lines += ['replicaof %s %d' % (host, port), 'masteruser %s' % user,
                  'masterauth %s' % _quote(state['password']), 'replica-read-only yes']
    elif state.get('read_only'):
        lines.append('min-replicas-to-write %d' % FENCE)
    return '\n'.join(lines) + '\n'


def _user(name):
    """A valid ACL user name other than ``default`` (the clients' user)."""
    name = names.check('User name', name, names.NAME_RE, 64)
    if name == 'default':
        raise exception.BadRequest(detail='the replication user cannot be "default"')
    return name


class RedisReplication(base.Replication):
    """Replication of one Redis engine (``engine.client()`` talks to it)."""

    @property
    def _paths(self):
        return self.engine.paths

    def _info(self):
        with self.engine.client() as cli:
            return cli.info('replication')

    # -- persisted state ------------------------------------------------------
    def _save(self, **changes):
        state = self._store_state(**changes)
        owner = app_mod.ENGINE_USER
        os.makedirs(self._paths.conf_d, exist_ok=True)
        files.write_file(os.path.join(self._paths.conf_d, REPLICATION_FILE),
                         render_replication_conf(state), mode=0o600, owner=owner)
        return state

    def client_auth(self):
        """The clients' password (``requirepass``) and whether root has it:
        Redis does not replicate configuration."""
        return {'password': self.engine.secret.read(),
                'root_enabled': self.engine.is_root_enabled()}

    def set_client_auth(self, auth):
        if not isinstance(auth, dict):
            raise exception.BadRequest(detail='invalid client credentials')
        self.engine.share_password(base.check_secret(auth.get('password'), 'password'),
                                   bool(auth.get('root_enabled')))

    def _define_user(self, cli, user, password):
        digest = hashlib.sha256(password.encode()).hexdigest()
        cli.execute_command('ACL', 'SETUSER', user, 'reset', 'on', '#' + digest,
                            *REPLICA_RIGHTS.split())
        return digest

    # -- primary side ---------------------------------------------------------
    def ensure_replication_user(self, user, password, replica_host=None):
        """An ACL user that may only replicate (idempotent, persisted)."""
        user = _user(user)
        base.check_secret(password)
        with self.engine.client() as cli:
            digest = self._define_user(cli, user, password)
        self._save(user=user, user_hash=digest)
        LOG.info('Replication user %s is ready', user)

    def snapshot_position(self):
        info = self._info()
        return {'offset': int(info.get('master_repl_offset', 0)),
                'replid': info.get('master_replid')}

    def set_read_only(self, read_only):
        """Fence (or unfence) writes on a primary; a replica is read-only anyway."""
        state = self._save(read_only=bool(read_only))
        if not state.get('following'):
            with self.engine.client() as cli:
                cli.config_set('min-replicas-to-write', FENCE if read_only else 0)
        LOG.info('Writes are now %s', 'fenced' if read_only else 'allowed')

    # -- replica side ---------------------------------------------------------
    def attach(self, primary_host, primary_port, user, password, position=None,
               slot=None):
        """Follow the primary (it sends what the copy lacks, or everything)."""
        self._follow(primary_host, primary_port, user, password)

    def demote(self, primary_host, primary_port, user, password, slot=None):
        self._follow(primary_host, primary_port, user, password)

    def _follow(self, host, port, user, password):
        host, port = base.check_endpoint(host, port)
        user = _user(user)
        base.check_secret(password)
        with self.engine.client() as cli:
            digest = self._define_user(cli, user, password)
            cli.config_set('masteruser', user)
            cli.config_set('masterauth', password)
            cli.config_set('replica-read-only', 'yes')
            cli.config_set('min-replicas-to-write', 0)
            cli.execute_command('REPLICAOF', host, str(port))
        self._save(user=user, user_hash=digest, following=[host, port, user],
                   password=password, read_only=True)
        LOG.info('Following %s:%s', host, port)

    def _stop_following(self):
        with self.engine.client() as cli:
            cli.execute_command('REPLICAOF', 'NO', 'ONE')
            cli.config_set('min-replicas-to-write', 0)
        self._save(following=None, password=None, read_only=False)

    def promote(self):
        self._stop_following()
        LOG.info('Promoted to primary at offset %s', self.position()['offset'])

    def detach(self):
        self._stop_following()
        LOG.info('Detached from the primary')

    # -- any member -----------------------------------------------------------
    def position(self):
        """Processed offset on a replica, the replication offset on a primary."""
        info = self._info()
        key = 'slave_repl_offset' if info.get('role') == 'slave' else 'master_repl_offset'
        return {'offset': int(info.get(key, 0)), 'replid': info.get('master_replid')}

    @staticmethod
    def compare(a, b):
        return positions.compare_redis(a, b)

    def _last_error(self):
        for line in reversed(process.tail(self._paths.console_log, 40).splitlines()):
            if 'rror' in line or 'refused' in line or 'failed' in line.lower():
                return line.split(' * ', 1)[-1].split(' # ', 1)[-1].strip()
        return None

    def status(self):
        info = self._info()
        if info.get('role') != 'slave':
            fenced = self._state().get('read_only', False)
            return base.status_dict(base.PRIMARY, read_only=fenced, position=self.position())
        up = info.get('master_link_status') == 'up'
        error = None
        if not up and info.get('master_sync_in_progress'):
            error = 'initial sync from the primary in progress'
        elif not up:
            down = info.get('master_link_down_since_seconds')
            error = self._last_error() or 'link to the primary down for %ss' % down
        lag = info.get('master_last_io_seconds_ago')
        return base.status_dict(
            base.REPLICA, following='%s:%s' % (info.get('master_host'),
                                               info.get('master_port')),
            healthy=up, lag=int(lag) if up and lag is not None and lag >= 0 else None,
            error=error, read_only=True, position=self.position())
