"""The MariaDB engine manager against a real, private mariadbd.

Needs the mariadbd and mariadb-install-db binaries (installed through
apt-get when missing and possible).  The engine binds only to a 127.77.x.y
loopback address and a free port, so a system MariaDB is never touched.
Every process the test starts is ended by pid in the fixture finalizer.
"""
import logging
import os
import shutil
import signal
import stat
import time

import pymysql
import pytest

from tests.functional import engine_env
from trove.common import exception, template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.engines import process
from trove.guestagent.engines.mysql import app as app_mod
from trove.guestagent.engines.mysql import manager

ADDRESS = '127.77.250.1'
PASSWORD = 's3cret'
ROOT_PASSWORD = 'r00t-pw'
PROGRAMS = ('mariadbd', 'mysqld')


@pytest.fixture(scope='module')
def env():
    engine_env.ensure_engine(app_mod.BINARIES, CONF.mariadb.packages, 'mariadbd')
    with engine_env.engine_env(ADDRESS, 'mariadb', PROGRAMS, 'trove-mdb-') as env:
        yield env


def _new_engine(env):
    return engine_env.new_engine(env, manager.MariaDBEngine)


def _request():
    return PrepareRequest(
        memory_mb=512, databases=[{'name': 'shop'}],
        users=[{'name': 'alice', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
        config_contents=template.render_config('mariadb', 512),
        root_password=ROOT_PASSWORD, overrides={'max_connections': 50}, ds_version='10.11')


def _alice(env):
    return pymysql.connect(host=ADDRESS, port=env['port'], user='alice', password=PASSWORD,
                           database='shop', autocommit=True, connect_timeout=5)


@pytest.fixture(scope='module')
def engine(env):
    eng = _new_engine(env)
    eng.warm_up()  # what the agent does at boot, before prepare arrives
    assert os.path.isdir(os.path.join(eng.app.warm_dir, 'mysql'))
    started = time.monotonic()
    eng.prepare(_request())
    assert not os.path.exists(eng.app.warm_dir)
    env['prepare_seconds'] = time.monotonic() - started
    print('prepare took %.1fs' % env['prepare_seconds'])
    return eng


def test_prepare_serves_users_over_tcp(env, engine):
    assert engine.status() == 'healthy'
    conn = _alice(env)
    with conn.cursor() as cur:
        cur.execute('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))')
        cur.execute('INSERT INTO items VALUES (1, %s)', ('apple',))
        cur.execute('SELECT name FROM items WHERE id = 1')
        assert cur.fetchone() == ('apple',)
        cur.execute('SELECT @@max_connections, @@port, @@bind_address')
        assert cur.fetchone() == (50, env['port'], ADDRESS)
    conn.close()


def test_lists_and_hardening(env, engine):
    assert engine.list_users() == [{'name': 'alice', 'host': '%',
                                    'databases': [{'name': 'shop'}]}]
    assert [d['name'] for d in engine.list_databases()] == ['shop']
    accounts = set(engine.admin.execute('SELECT User, Host FROM mysql.user'))
    assert ('', 'localhost') not in accounts
    assert ('root', '%') in accounts  # the requested root password
    assert all(u != 'root' or h in ('localhost', '%') for u, h in accounts)
    mode = stat.S_IMODE(os.stat(engine.paths.admin_secret).st_mode)
    assert mode == 0o600
    pymysql.connect(host=ADDRESS, port=env['port'], user='root',
                    password=ROOT_PASSWORD).close()


def test_prepare_is_idempotent(env, engine, caplog):
    caplog.set_level(logging.DEBUG)
    engine.prepare(_request())
    assert engine.status() == 'healthy'
    assert len(engine.list_users()) == 1
    assert PASSWORD not in caplog.text and ROOT_PASSWORD not in caplog.text
    assert engine.secret.read() not in caplog.text


def test_database_and_user_management(env, engine):
    engine.create_databases([{'name': 'ex_tra', 'character_set': 'utf8mb4'},
                             {'name': 'exXtra'}])
    engine.create_users([{'name': 'bob', 'password': 'pw-b', 'host': '127.%',
                          'databases': [{'name': 'ex_tra'}]}])
    assert {'name': 'bob', 'host': '127.%', 'databases': [{'name': 'ex_tra'}]} \
        in engine.list_users()
    conn = pymysql.connect(host=ADDRESS, port=env['port'], user='bob', password='pw-b')
    with conn.cursor() as cur:
        cur.execute('SHOW DATABASES')
        # The grant on ex_tra must not leak to exXtra through the _ wildcard.
        assert {r[0] for r in cur.fetchall()} == {'ex_tra', 'information_schema'}
    conn.close()
    engine.delete_user('bob', '127.%')
    engine.delete_database('ex_tra')
    engine.delete_database('exXtra')
    assert [d['name'] for d in engine.list_databases()] == ['shop']
    with pytest.raises(exception.DatabaseNotFound):
        engine.delete_database('ex_tra')
    with pytest.raises(exception.UserNotFound):
        engine.delete_user('bob', '127.%')
    with pytest.raises(exception.BadRequest):
        engine.create_databases([{'name': 'x`; DROP DATABASE shop; --'}])


def test_agent_restart_finds_running_engine(env, engine):
    pid = engine.app.running_pid()
    fresh = _new_engine(env)  # what a restarted agent would build
    assert fresh.status() == 'healthy'
    fresh.start()
    assert fresh.app.running_pid() == pid


def test_stop_and_start_keep_data(env, engine):
    engine.stop()
    assert engine.status() == 'shutdown'
    engine.start()
    assert engine.status() == 'healthy'
    conn = _alice(env)
    with conn.cursor() as cur:
        cur.execute('SELECT name FROM items WHERE id = 1')
        assert cur.fetchone() == ('apple',)
    conn.close()


def test_crash_is_reported_and_recovered(env, engine):
    pid = engine.app.running_pid()
    os.kill(pid, signal.SIGKILL)
    process.wait_for(lambda: engine.status() == 'crashed', 10)
    assert engine.status() == 'crashed'
    fresh = _new_engine(env)  # a new agent after the crash
    assert fresh.status() == 'crashed'
    fresh.start()
    assert fresh.status() == 'healthy'
    fresh.stop()
    assert fresh.status() == 'shutdown'
    assert engine_env.engine_pids(PROGRAMS, env['markers']) == []


def test_cold_initialize_without_warm_up(env, engine):
    """The path without a spare datadir (warm-up failed or skipped)."""
    import dataclasses
    from trove.guestagent.engines.mysql import app as app_mod
    cold = os.path.join(env['base'], 'vol', 'cold-data')
    app = app_mod.MariaDBApp(dataclasses.replace(engine.paths, datadir=cold))
    os.makedirs(cold)
    shutil.chown(cold, 'mysql', 'mysql')
    app.initialize()
    assert os.path.isdir(os.path.join(cold, 'mysql'))
    assert not os.path.exists(app.warm_dir)
