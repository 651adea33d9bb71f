"""The PostgreSQL engine manager against a real, private postgres.

Needs Debian's PostgreSQL binaries (installed through apt-get when missing
and possible).  The engine binds only to a 127.77.x.y address and a free
port; every process the test starts is ended by pid in the fixture.
"""
import logging
import os
import signal
import stat
import time

import psycopg
import pytest

from tests.functional import engine_env
from trove.common import exception, template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.engines import process
from trove.guestagent.engines.postgresql import app as app_mod
from trove.guestagent.engines.postgresql import manager

ADDRESS = '127.77.252.1'
PASSWORD = 's3cret-pg'
PROGRAMS = ('postgres',)


@pytest.fixture(scope='module')
def env():
    engine_env.ensure_engine(app_mod.BINARIES, CONF.postgresql.packages, 'PostgreSQL',
                             finder=app_mod.find)
    with engine_env.engine_env(ADDRESS, 'postgresql', PROGRAMS, 'trove-pg-') as env:
        yield env


def _new_engine(env):
    return engine_env.new_engine(env, manager.PostgreSQLEngine)


def _request():
    return PrepareRequest(
        memory_mb=512, databases=[{'name': 'shop'}],
        users=[{'name': 'alice', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
        config_contents=template.render_config('postgresql', 512),
        overrides={'max_connections': 40})


def _connect(env, user='alice', password=PASSWORD, dbname='shop'):
    return psycopg.connect(host=ADDRESS, port=env['port'], user=user, password=password,
                           dbname=dbname, autocommit=True, connect_timeout=5)


@pytest.fixture(scope='module')
def engine(env):
    eng = _new_engine(env)
    started = time.monotonic()
    eng.prepare(_request())
    print('prepare took %.1fs' % (time.monotonic() - started))
    return eng


def test_prepare_serves_users_over_tcp(env, engine):
    assert engine.status() == 'healthy'
    with _connect(env) as conn:
        conn.execute('CREATE TABLE items (id INT PRIMARY KEY, name TEXT)')
        conn.execute('INSERT INTO items VALUES (1, %s)', ('apple',))
        assert conn.execute('SELECT name FROM items WHERE id = 1').fetchone() == ('apple',)
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', "
            "'shared_buffers', 'listen_addresses', 'port', 'password_encryption')"))
    assert settings == {'max_connections': '40', 'shared_buffers': '16384',  # 8kB pages
                        'listen_addresses': ADDRESS, 'port': str(env['port']),
                        'password_encryption': 'scram-sha-256'}


def test_access_rules(env, engine):
    admin = CONF.postgresql.root_controller_user
    with pytest.raises(psycopg.OperationalError):  # the admin never over TCP
        _connect(env, user=admin, password='', dbname='postgres')
    with pytest.raises(psycopg.OperationalError):
        _connect(env, password='wrong')
    mode = stat.S_IMODE(os.stat(engine.paths.datadir).st_mode)
    assert mode == 0o700
    assert engine.list_users() == [{'name': 'alice', 'host': '%',
                                    'databases': [{'name': 'shop'}]}]
    assert [d['name'] for d in engine.list_databases()] == ['shop']


def test_prepare_is_idempotent(env, engine, caplog):
    caplog.set_level(logging.DEBUG)
    engine.prepare(_request())
    assert engine.status() == 'healthy'
    assert len(engine.list_users()) == 1
    assert PASSWORD not in caplog.text
    assert PASSWORD not in process.tail(engine.paths.console_log, 10000)


def test_database_user_and_access_management(env, engine):
    engine.create_databases([{'name': 'extra', 'character_set': 'UTF8'}])
    engine.create_users([{'name': 'bob', 'password': 'pw-b', 'databases': [{'name': 'extra'}]}])
    with pytest.raises(psycopg.OperationalError):  # no grant on shop
        _connect(env, 'bob', 'pw-b', 'shop')
    with _connect(env, 'bob', 'pw-b', 'extra') as conn:
        conn.execute('CREATE TABLE notes (t TEXT)')
    assert engine.list_access('bob') == [{'name': 'extra'}]
    engine.grant_access('bob', '%', ['shop'])
    assert engine.get_user('bob')['databases'] == [{'name': 'extra'}, {'name': 'shop'}]
    engine.revoke_access('bob', '%', 'shop')
    assert engine.list_access('bob') == [{'name': 'extra'}]
    engine.update_user('bob', '%', new_name='carol', new_password='pw-c')
    _connect(env, 'carol', 'pw-c', 'extra').close()
    engine.change_passwords([{'name': 'carol', 'password': 'pw-d'}])
    _connect(env, 'carol', 'pw-d', 'extra').close()
    engine.delete_user('carol')  # owns a table: it stays, the role goes
    assert [u['name'] for u in engine.list_users()] == ['alice']
    engine.delete_database('extra')
    assert [d['name'] for d in engine.list_databases()] == ['shop']
    with pytest.raises(exception.DatabaseNotFound):
        engine.delete_database('extra')
    with pytest.raises(exception.UserNotFound):
        engine.delete_user('carol')
    for hidden in ('postgres', 'root'):
        with pytest.raises(exception.UserNotFound):
            engine.delete_user(hidden)
    for bad in ({'name': 'x"; DROP DATABASE shop; --'}, {'name': 'postgres'}):
        with pytest.raises(exception.BadRequest):
            engine.create_databases([bad])
    with pytest.raises(exception.BadRequest):
        engine.create_users([{'name': 'pg_evil', 'password': 'x'}])


def test_root_enable_disable(env, engine):
    assert engine.is_root_enabled() is False
    root = engine.enable_root()
    assert root['name'] == 'root' and root['password']
    assert engine.is_root_enabled() is True
    with _connect(env, 'root', root['password'], 'shop') as conn:
        assert conn.execute('SELECT rolsuper FROM pg_roles WHERE rolname = current_user'
                            ).fetchone() == (True,)
    engine.disable_root()
    assert engine.is_root_enabled() is False
    with pytest.raises(psycopg.OperationalError):
        _connect(env, 'root', root['password'], 'shop')


def test_overrides_apply_live(env, engine):
    engine.update_overrides({'work_mem': '8MB', 'max_connections': 40})
    engine.apply_overrides({'work_mem': '8MB'})
    with _connect(env) as conn:
        assert conn.execute('SHOW work_mem').fetchone() == ('8MB',)
    with pytest.raises(exception.BadRequest):
        engine.update_overrides({'bad name\n': 1})


def test_agent_restart_finds_running_engine(env, engine):
    pid = engine.app.child.running_pid()
    fresh = _new_engine(env)  # what a restarted agent would build
    assert fresh.status() == 'healthy'
    fresh.start()
    assert fresh.app.child.running_pid() == pid


def test_stop_and_start_keep_data(env, engine):
    engine.stop()
    assert engine.status() == 'shutdown'
    engine.start()
    assert engine.status() == 'healthy'
    with _connect(env) as conn:
        assert conn.execute('SELECT name FROM items WHERE id = 1').fetchone() == ('apple',)


def test_crash_is_reported_and_recovered(env, engine):
    pid = engine.app.child.running_pid()
    os.kill(pid, signal.SIGKILL)
    process.wait_for(lambda: engine.status() == 'crashed', 10)
    assert engine.status() == 'crashed'
    fresh = _new_engine(env)  # a new agent after the crash
    assert fresh.status() == 'crashed'
    fresh.start()
    assert fresh.status() == 'healthy'
    with _connect(env) as conn:
        assert conn.execute('SELECT name FROM items WHERE id = 1').fetchone() == ('apple',)
    fresh.stop()
    assert fresh.status() == 'shutdown'
    assert engine_env.engine_pids(PROGRAMS, env['markers']) == []
