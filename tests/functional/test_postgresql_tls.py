"""TLS of the PostgreSQL engine against a real, private postgres.

Certificates come from PKCS#12 containers built here (tls_certs).  The
tests run in order on one cluster: basic, a renewal into enforced, mtls,
rollback, disable; none needs a restart, and every one checks that no key
or password reached the agent's log.
"""
import logging
import os
import stat

import psycopg
import pytest

from tests.functional import engine_env, tls_certs
from trove.common import exception, template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.engines.common import tls_files
from trove.guestagent.engines.postgresql import app as app_mod
from trove.guestagent.engines.postgresql import manager

ADDRESS = '127.77.248.1'
PASSWORD = 'tls-s3cret-pg'
P12_PASSWORD = 'p12-pass-phrase'
PROGRAMS = ('postgres',)


@pytest.fixture(scope='module')
def env():
    engine_env.ensure_engine(app_mod.BINARIES, CONF.postgresql.packages, 'PostgreSQL',
                             finder=app_mod.find)
    with engine_env.engine_env(ADDRESS, 'postgresql', PROGRAMS, 'trove-pgtls-') as env:
        env['a'] = tls_certs.make_bundle(ADDRESS, 'alice', ca_name='CA one')
        env['b'] = tls_certs.make_bundle(ADDRESS, 'alice', P12_PASSWORD, ca_name='CA two')
        env['files_a'] = tls_certs.write_client_files(env['base'], env['a'], 'a')
        env['files_b'] = tls_certs.write_client_files(env['base'], env['b'], 'b')
        yield env


@pytest.fixture(scope='module')
def engine(env):
    eng = engine_env.new_engine(env, manager.PostgreSQLEngine)
    eng.prepare(PrepareRequest(
        memory_mb=512, databases=[{'name': 'shop'}],
        users=[{'name': 'alice', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
        config_contents=template.render_config('postgresql', 512)))
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


def _connect(env, sslmode, files=None, client_cert=False, password=PASSWORD):
    """True when alice gets a session; with ``files`` the server is verified
    against their CA (verify-full: the address is in the certificate)."""
    kwargs = {'sslmode': sslmode}
    if files:
        kwargs['sslrootcert'] = files['ca']
    if client_cert:
        kwargs.update(sslcert=files['cert'], sslkey=files['key'])
    try:
        with psycopg.connect(host=ADDRESS, port=env['port'], user='alice', password=password,
                             dbname='shop', connect_timeout=5, **kwargs) as conn:
            row = conn.execute('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
            return row.fetchone()[0] == (sslmode != 'disable')
    except psycopg.OperationalError:
        return False


def _plain(env):
    return _connect(env, 'disable')


def _tls(env, files, client_cert=False, password=PASSWORD):
    return _connect(env, 'verify-full', files, client_cert, password)


def test_bad_containers_change_nothing(env, engine):
    with pytest.raises(exception.BadRequest, match='password is needed'):
        engine.tls.apply(mode='enforced', p12=env['b']['p12_payload'])
    with pytest.raises(exception.BadRequest, match='password is wrong'):
        engine.tls.apply(mode='enforced', p12=env['b']['p12_payload'], password='nope')
    with pytest.raises(exception.BadRequest):
        engine.tls.apply(mode='basic', p12=b'not a container')
    assert engine.tls.show() == {'status': 'off', 'mode': None, 'restart_required': False}
    assert _plain(env)
    assert not _tls(env, env['files_a'])


def test_basic_offers_tls_and_keeps_plain(env, engine):
    answer = engine.tls.apply(mode='basic', p12=env['a']['p12_payload'])
    assert answer['restart_required'] is False  # a reload reads ssl settings
    shown = engine.tls.show(include_certificate=True)
    assert (shown['status'], shown['mode']) == ('on', 'basic')
    assert shown['certificate'] == env['a']['cert']
    assert _tls(env, env['files_a'])
    assert not _tls(env, env['files_b'])  # another CA does not vouch for it
    assert _plain(env)
    key = engine.tls.store.path(tls_files.KEY_FILE)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    if os.geteuid() == 0:
        assert os.stat(key).st_uid == os.stat(engine.paths.datadir).st_uid  # postgres


def test_renew_into_enforced_refuses_plain(env, engine):
    answer = engine.tls.apply(mode='enforced', p12=env['b']['p12_payload'],
                              password=P12_PASSWORD)
    assert (answer['status'], answer['mode'], answer['restart_required']) == (
        'on', 'enforced', False)
    assert not _plain(env)
    assert _tls(env, env['files_b'])
    assert not _tls(env, env['files_a'])
    assert engine.status() == 'healthy'  # the agent's socket login still works


def test_mtls_requires_a_client_certificate(env, engine):
    engine.tls.apply(mode='mtls', p12=env['a']['p12_payload'])
    assert not _plain(env)
    assert not _tls(env, env['files_a'])  # password over TLS is not enough
    assert _tls(env, env['files_a'], client_cert=True, password='')
    assert not _tls(env, env['files_b'], client_cert=True)  # cert of another CA
    assert engine.status() == 'healthy'


def test_rollback_restores_the_previous_mode(env, engine):
    engine.tls.apply(mode='basic', p12=env['a']['p12_payload'])
    engine.tls.apply(mode='enforced', p12=env['b']['p12_payload'], password=P12_PASSWORD)
    answer = engine.tls.rollback()
    assert (answer['status'], answer['mode']) == ('on', 'basic')
    assert _plain(env)
    assert _tls(env, env['files_a'])
    assert not _tls(env, env['files_b'])
    with pytest.raises(exception.BadRequest, match='roll back'):
        engine.tls.rollback()


def test_disable_and_tls_survives_a_restart(env, engine):
    answer = engine.tls.disable()
    assert (answer['status'], answer['restart_required']) == ('off', False)
    assert _plain(env)
    assert not _tls(env, env['files_a'])
    assert not os.path.exists(engine.tls.store.path(tls_files.KEY_FILE))
    engine.tls.rollback()
    engine.tls.apply(mode='enforced', p12=env['a']['p12_payload'])
    engine.restart()
    assert engine.tls.show()['mode'] == 'enforced'
    assert not _plain(env)
    assert _tls(env, env['files_a'])
