"""The Redis engine manager against a real, private redis-server.

Needs redis-server (installed through apt-get when missing and possible).
The engine binds only to a 127.77.x.y address and a free port; every
process the test starts is ended by pid in the fixture.
"""
import logging
import os
import signal
import stat

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.functional import engine_env
from trove.common import exception, template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.engines import process
from trove.guestagent.engines.redis import app as app_mod
from trove.guestagent.engines.redis import manager

ADDRESS = '127.77.253.1'
PROGRAMS = ('redis-server',)


@pytest.fixture(scope='module')
def env():
    engine_env.ensure_engine(app_mod.BINARIES, CONF.redis.packages, 'redis-server')
    with engine_env.engine_env(ADDRESS, 'redis', PROGRAMS, 'trove-redis-') as env:
        yield env


def _new_engine(env):
    return engine_env.new_engine(env, manager.RedisEngine)


def _client(env, password):
    return redis.Redis(host=ADDRESS, port=env['port'], password=password, socket_timeout=5,
                       retry=Retry(NoBackoff(), 0))


@pytest.fixture(scope='module')
def engine(env):
    eng = _new_engine(env)
    eng.prepare(PrepareRequest(memory_mb=512,
                               config_contents=template.render_config('redis', 512),
                               overrides={'maxmemory-policy': 'allkeys-lru'}))
    return eng


def test_prepare_secures_and_sizes(env, engine):
    assert engine.status() == 'healthy'
    assert engine.is_root_enabled() is False
    with pytest.raises(redis.AuthenticationError):  # requirepass is always set
        _client(env, None).ping()
    with pytest.raises(redis.AuthenticationError):
        _client(env, 'guess').ping()
    with engine.client() as cli:
        assert cli.config_get('maxmemory') == {'maxmemory': str(384 * 1024 * 1024)}
        assert cli.config_get('maxmemory-policy') == {'maxmemory-policy': 'allkeys-lru'}
        assert cli.config_get('appendonly') == {'appendonly': 'yes'}
    for path in (engine.paths.secret, engine.paths.main_conf):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_users_and_databases_are_not_supported(env, engine):
    CONF.set_override('datastore_manager', 'redis')
    try:
        for call in (engine.list_databases, engine.list_users,
                     lambda: engine.create_users([{'name': 'a', 'password': 'b'}])):
            with pytest.raises(exception.DatastoreOperationNotSupported):
                call()
    finally:
        CONF.clear_override('datastore_manager')


def test_root_is_the_password(env, engine, caplog):
    caplog.set_level(logging.DEBUG)
    root = engine.enable_root()
    assert root['name'] == 'root' and root['password']
    assert engine.is_root_enabled() is True
    cli = _client(env, root['password'])
    cli.set('fruit', 'apple')
    assert cli.get('fruit') == b'apple'
    assert root['password'] not in caplog.text
    assert root['password'] not in process.tail(engine.paths.console_log, 10000)
    chosen = engine.enable_root('my-own-Pw')
    assert chosen == {'name': 'root', 'password': 'my-own-Pw'}
    assert _client(env, 'my-own-Pw').get('fruit') == b'apple'
    with pytest.raises(redis.AuthenticationError):
        _client(env, root['password']).ping()


def test_overrides(env, engine):
    engine.update_overrides({'maxmemory-policy': 'volatile-lru', 'timeout': 300})
    engine.apply_overrides({'maxmemory-policy': 'volatile-lru', 'timeout': 300})
    cli = _client(env, 'my-own-Pw')
    assert cli.config_get('timeout') == {'timeout': '300'}
    for bad in ({'requirepass': 'x'}, {'dir': '/tmp'}, {'bad name': 1}):
        with pytest.raises(exception.BadRequest):
            engine.apply_overrides(bad)
    with pytest.raises(exception.EngineError):
        engine.apply_overrides({'maxmemory-policy': 'no-such-policy'})
    with pytest.raises(redis.ResponseError):  # no writing files elsewhere
        cli.config_set('dir', '/tmp')


def test_stop_and_start_keep_data_and_password(env, engine):
    engine.stop()
    assert engine.status() == 'shutdown'
    engine.start()
    assert engine.status() == 'healthy'
    cli = _client(env, 'my-own-Pw')
    assert cli.get('fruit') == b'apple'
    assert cli.config_get('timeout') == {'timeout': '300'}  # from the overrides file


def test_disable_root_locks_the_user_out(env, engine):
    engine.disable_root()
    assert engine.is_root_enabled() is False
    with pytest.raises(redis.AuthenticationError):
        _client(env, 'my-own-Pw').ping()
    assert engine.status() == 'healthy'  # the agent still gets in


def test_agent_restart_finds_running_engine(env, engine):
    pid = engine.app.child.running_pid()
    fresh = _new_engine(env)
    assert fresh.status() == 'healthy'
    fresh.start()
    assert fresh.app.child.running_pid() == pid


def test_crash_is_reported_and_recovered(env, engine):
    pid = engine.app.child.running_pid()
    os.kill(pid, signal.SIGKILL)
    process.wait_for(lambda: engine.status() == 'crashed', 10)
    assert engine.status() == 'crashed'
    fresh = _new_engine(env)
    assert fresh.status() == 'crashed'
    fresh.start()
    assert fresh.status() == 'healthy'
    with fresh.client() as cli:
        assert cli.get('fruit') == b'apple'  # the AOF survived the crash
    fresh.stop()
    assert fresh.status() == 'shutdown'
    assert engine_env.engine_pids(PROGRAMS, env['markers']) == []
