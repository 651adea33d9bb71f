"""TLS of the MariaDB engine against a real, private mariadbd.

Certificates come from PKCS#12 containers built here (tls_certs).  The
tests run in order on one engine: basic, a renewal into enforced, mtls,
rollback, disable; every one checks that no key or password reached the
agent's log.
"""
import logging
import os
import stat

import pymysql
import pytest

from tests.functional import engine_env, tls_certs
from trove.common import exception, template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.engines.common import tls_files
from trove.guestagent.engines.mysql import app as app_mod
from trove.guestagent.engines.mysql import manager

ADDRESS = '127.77.247.1'
PASSWORD = 'tls-s3cret'
P12_PASSWORD = 'p12-pass-phrase'
PROGRAMS = ('mariadbd', 'mysqld')


@pytest.fixture(scope='module')
def env():
    engine_env.ensure_engine(app_mod.BINARIES, CONF.mariadb.packages, 'mariadbd')
    with engine_env.engine_env(ADDRESS, 'mariadb', PROGRAMS, 'trove-mdbtls-') as env:
        env['a'] = tls_certs.make_bundle(ADDRESS, 'alice', ca_name='CA one')
        env['b'] = tls_certs.make_bundle(ADDRESS, 'alice', P12_PASSWORD, ca_name='CA two')
        env['files_a'] = tls_certs.write_client_files(env['base'], env['a'], 'a')
        env['files_b'] = tls_certs.write_client_files(env['base'], env['b'], 'b')
        yield env


@pytest.fixture(scope='module')
def engine(env):
    eng = engine_env.new_engine(env, manager.MariaDBEngine)
    eng.prepare(PrepareRequest(
        memory_mb=512, databases=[{'name': 'shop'}],
        users=[{'name': 'alice', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
        config_contents=template.render_config('mariadb', 512), ds_version='10.11'))
    return eng


@pytest.fixture(autouse=True)
def no_secret_logged(env, caplog):
    """The agent's log never shows a key, the container or its password."""
    caplog.set_level(logging.DEBUG)
    yield
    text = caplog.text
    for secret in (env['a']['key'], env['b']['key'], P12_PASSWORD):
        assert secret.strip() not in text
    assert 'PRIVATE KEY' not in text


def _plain(env):
    """True when alice logs in over plain TCP."""
    try:
        pymysql.connect(host=ADDRESS, port=env['port'], user='alice', password=PASSWORD,
                        database='shop', ssl_disabled=True, connect_timeout=5).close()
        return True
    except pymysql.err.OperationalError:
        return False


def _tls(env, files, client_cert=False):
    """True when alice logs in over TLS verifying the server against the CA
    of ``files`` (with the client certificate when asked)."""
    kwargs = {'ssl_ca': files['ca'], 'ssl_verify_identity': True}
    if client_cert:
        kwargs.update(ssl_cert=files['cert'], ssl_key=files['key'])
    try:
        conn = pymysql.connect(host=ADDRESS, port=env['port'], user='alice',
                               password=PASSWORD, database='shop', connect_timeout=5, **kwargs)
    except pymysql.err.OperationalError:
        return False
    with conn.cursor() as cur:
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        cipher = cur.fetchone()[1]
    conn.close()
    return bool(cipher)


def _settle(engine, answer):
    if answer['restart_required']:
        engine.restart()
    assert engine.tls.show()['restart_required'] is False


def test_bad_containers_change_nothing(env, engine):
    with pytest.raises(exception.BadRequest, match='password is needed'):
        engine.tls.apply(mode='basic', p12=env['b']['p12_payload'])
    with pytest.raises(exception.BadRequest, match='password is wrong'):
        engine.tls.apply(mode='basic', p12=env['b']['p12_payload'], password='nope')
    with pytest.raises(exception.BadRequest, match='mode'):
        engine.tls.apply(mode='paranoid', p12=env['a']['p12_payload'])
    with pytest.raises(exception.BadRequest, match='roll back'):
        engine.tls.rollback()
    assert engine.tls.show() == {'status': 'off', 'mode': None, 'restart_required': False}
    assert not os.path.exists(engine.tls.store.path(tls_files.KEY_FILE))


def test_basic_offers_tls_and_keeps_plain(env, engine):
    answer = engine.tls.apply(mode='basic', p12=env['a']['p12_payload'])
    assert answer['restart_required'] is True  # first enable: mariadbd reads paths at start
    _settle(engine, answer)
    shown = engine.tls.show(include_certificate=True)
    assert (shown['status'], shown['mode']) == ('on', 'basic')
    assert shown['certificate'] == env['a']['cert'] and shown['subject'] == 'CN=' + ADDRESS
    assert _tls(env, env['files_a'])
    assert not _tls(env, env['files_b'])  # another CA does not vouch for it
    assert _plain(env)
    key = engine.tls.store.path(tls_files.KEY_FILE)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    if os.geteuid() == 0:
        assert os.stat(key).st_uid == os.stat(engine.paths.datadir).st_uid  # mysql


def test_renew_into_enforced_needs_no_restart(env, engine):
    answer = engine.tls.apply(mode='enforced', p12=env['b']['p12_payload'],
                              password=P12_PASSWORD)
    assert answer['restart_required'] is False  # FLUSH SSL, SET GLOBAL
    assert (answer['status'], answer['mode']) == ('on', 'enforced')
    assert not _plain(env)
    assert _tls(env, env['files_b'])
    assert not _tls(env, env['files_a'])
    assert engine.status() == 'healthy'  # the agent's socket login still works


def test_mtls_requires_a_client_certificate(env, engine):
    answer = engine.tls.apply(mode='mtls', p12=env['a']['p12_payload'])
    _settle(engine, answer)
    assert not _plain(env)
    assert not _tls(env, env['files_a'])  # password over TLS is not enough
    assert _tls(env, env['files_a'], client_cert=True)
    assert not _tls(env, env['files_b'], client_cert=True)  # cert of another CA
    # A user created under mtls needs a certificate as well.
    engine.create_users([{'name': 'bob', 'password': PASSWORD, 'databases': []}])
    rows = engine.admin.execute("SELECT ssl_type FROM mysql.user WHERE User = 'bob'")
    assert rows[0][0] == 'X509'
    assert engine.status() == 'healthy'


def test_rollback_restores_the_previous_mode(env, engine):
    _settle(engine, engine.tls.apply(mode='basic', p12=env['a']['p12_payload']))
    _settle(engine, engine.tls.apply(mode='enforced', p12=env['b']['p12_payload'],
                                     password=P12_PASSWORD))
    answer = engine.tls.rollback()
    _settle(engine, answer)
    assert (answer['status'], answer['mode']) == ('on', 'basic')
    assert _plain(env)
    assert _tls(env, env['files_a'], client_cert=False)
    assert not _tls(env, env['files_b'])
    rows = engine.admin.execute("SELECT ssl_type FROM mysql.user WHERE User = 'alice'")
    assert rows[0][0] == ''
    with pytest.raises(exception.BadRequest, match='roll back'):
        engine.tls.rollback()


def test_disable_then_rollback_reenables(env, engine):
    answer = engine.tls.disable()
    assert answer['restart_required'] is True
    assert answer['status'] == 'off'
    _settle(engine, answer)
    assert _plain(env)
    assert not _tls(env, env['files_a'])
    assert not os.path.exists(engine.tls.store.path(tls_files.KEY_FILE))
    _settle(engine, engine.tls.rollback())
    assert engine.tls.show()['mode'] == 'basic'
    assert _tls(env, env['files_a'])
