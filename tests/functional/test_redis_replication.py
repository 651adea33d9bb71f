"""Redis replication between two real private redis-server engines.

The primary (127.230.3.1) holds data; the replica (127.230.3.2) starts from
a real RDB backup of it restored with the guest's backup strategy
(trove.guestagent.backup.redis).  Every process is ended by pid in the
fixture finalizer and every directory removed.
"""
import os
import signal

import pytest
import redis

from tests.functional import engine_env
from tests.functional import replication_env as renv
from trove.common import template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.backup import redis as redis_backup
from trove.guestagent.engines import process
from trove.guestagent.engines.redis import app as app_mod
from trove.guestagent.engines.redis import manager

ADDRESSES = ('127.230.3.1', '127.230.3.2')
GROUP = 'redis'
PROGRAMS = ('redis-server',)
ROOT_PASSWORD = 'redis-root-pw'
REPL_USER, REPL_PASSWORD = 'os_repl', 'repl-Secret-3'


def _client(member):
    return redis.Redis(host=member.address, port=member.port, password=ROOT_PASSWORD,
                       socket_timeout=5, decode_responses=True)


def _repl(member, op, **kwargs):
    return getattr(member.engine.replication, op)(**kwargs)


def _caught_up(replica, primary, timeout=20):
    position = _repl(primary, 'snapshot_position')
    if _repl(replica, 'wait_for', position=position, timeout=timeout):
        return True
    print('not caught up with %s: %s' % (position, _repl(replica, 'status')))
    return False


@pytest.fixture(scope='module')
def pair():
    engine_env.ensure_engine(app_mod.BINARIES, CONF.redis.packages, 'redis-server')
    with renv.replica_set(ADDRESSES, GROUP, PROGRAMS, 'trove-rrepl-',
                          manager.RedisEngine) as rs:
        primary, replica = rs['members']
        req = PrepareRequest(memory_mb=256, root_password=ROOT_PASSWORD,
                             config_contents=template.render_config('redis', 256))
        with renv.as_member(primary, GROUP):
            primary.engine.prepare(req)
        _client(primary).set('fruit:1', 'apple')
        _repl(primary, 'ensure_replication_user', user=REPL_USER, password=REPL_PASSWORD)
        renv.backup_into(redis_backup.RedisRDB, primary, replica,
                         os.path.join(rs['base'], 'backup'), GROUP)
        _client(primary).set('fruit:2', 'pear')  # after the backup
        with renv.as_member(replica, GROUP):
            replica.engine.prepare(req)
        _repl(replica, 'attach', primary_host=primary.address, primary_port=primary.port,
              user=REPL_USER, password=REPL_PASSWORD)
        yield rs


def test_writes_on_the_primary_reach_the_replica(pair):
    primary, replica = pair['members']
    _client(primary).set('fruit:3', 'plum')
    assert _caught_up(replica, primary)
    assert _client(replica).mget('fruit:1', 'fruit:2', 'fruit:3') == ['apple', 'pear', 'plum']
    status = _repl(replica, 'status')
    assert status['role'] == 'replica' and status['healthy'], status
    assert status['following'] == '%s:%d' % (primary.address, primary.port)
    assert status['error'] is None and status['read_only'] and status['lag'] is not None
    assert _repl(primary, 'status')['role'] == 'primary'


def test_replication_user_may_only_replicate(pair):
    primary, _ = pair['members']
    cli = redis.Redis(host=primary.address, port=primary.port, username=REPL_USER,
                      password=REPL_PASSWORD, socket_timeout=5)
    with pytest.raises(redis.exceptions.NoPermissionError):
        cli.get('fruit:1')
    conf = open(os.path.join(primary.engine.paths.conf_d, '40-replication.conf')
                ).read()
    assert REPL_PASSWORD not in conf  # a primary stores only the hash


def test_replica_refuses_writes(pair):
    _, replica = pair['members']
    with pytest.raises(redis.exceptions.ReadOnlyError):
        _client(replica).set('fruit:9', 'nope')


def test_replica_keeps_following_after_a_restart(pair):
    primary, replica = pair['members']
    replica.engine.restart()
    _client(primary).set('fruit:4', 'fig')
    assert _caught_up(replica, primary)
    assert _client(replica).get('fruit:4') == 'fig'


def test_switchover_reverses_the_flow(pair):
    primary, replica = pair['members']
    _repl(primary, 'set_read_only', read_only=True)
    with pytest.raises(redis.exceptions.ResponseError, match='NOREPLICAS'):
        _client(primary).set('fruit:8', 'nope')
    assert _caught_up(replica, primary)
    _repl(replica, 'promote')
    _repl(primary, 'demote', primary_host=replica.address, primary_port=replica.port,
          user=REPL_USER, password=REPL_PASSWORD)
    _client(replica).set('fruit:5', 'kiwi')
    assert _caught_up(primary, replica)
    assert _client(primary).get('fruit:5') == 'kiwi'
    with pytest.raises(redis.exceptions.ReadOnlyError):
        _client(primary).set('fruit:10', 'nope')
    assert _repl(replica, 'status')['role'] == 'primary'
    status = _repl(primary, 'status')
    assert status['role'] == 'replica' and status['healthy'], status


def test_killed_primary_shows_a_broken_stream(pair):
    old_primary, new_primary = pair['members']
    os.kill(new_primary.engine.app.child.running_pid(), signal.SIGKILL)

    def broken():
        status = _repl(old_primary, 'status')
        return status if not status['healthy'] and status['error'] else None
    status = process.wait_for(broken, 30, interval=0.5)
    assert status, _repl(old_primary, 'status')
    assert REPL_PASSWORD not in status['error']
    print('broken stream: %s' % status['error'])


def test_detach_makes_a_writable_standalone(pair):
    member, _ = pair['members']
    _repl(member, 'detach')
    _client(member).set('fruit:6', 'lime')
    status = _repl(member, 'status')
    assert status['role'] == 'primary' and not status['read_only']
    member.engine.restart()
    assert _repl(member, 'status')['role'] == 'primary'
    _client(member).set('fruit:7', 'date')
