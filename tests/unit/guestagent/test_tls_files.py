"""The TLS files of an engine: PKCS#12 opening, the on-disk states, the
engine config they render (engines/common/tls_files.py and the engines'
tls modules)."""
import os
import stat
import types

import pytest

from tests.functional import tls_certs
from trove.common import exception
from trove.guestagent.engines.common import tls_files
from trove.guestagent.engines.mysql import config as mysql_config
from trove.guestagent.engines.mysql import tls as mysql_tls
from trove.guestagent.engines.postgresql import config as pg_config
from trove.guestagent.engines.postgresql import tls as pg_tls


@pytest.fixture(scope='module')
def bundles():
    return (tls_certs.make_bundle('127.0.0.9', 'alice'),
            tls_certs.make_bundle('127.0.0.9', 'alice', password='pw'))


def test_load_p12_gives_pem_and_hides_the_key(bundles):
    plain, locked = bundles
    material = tls_files.load_p12(plain['p12_payload'])
    assert material.cert_pem == plain['cert'] and material.ca_pem == plain['cas'][0]
    assert 'PRIVATE KEY' in material.key_pem and 'PRIVATE' not in repr(material)
    assert tls_files.load_p12(locked['p12_payload'], 'pw').cert_pem == locked['cert']


@pytest.mark.parametrize('payload, password, hint', [
    ('locked', None, 'password is needed'), ('locked', 'bad', 'password is wrong'),
    (b'junk', None, 'not a PKCS#12')])
def test_load_p12_errors_are_bad_requests_without_echo(bundles, payload, password, hint):
    data = bundles[1]['p12_payload'] if payload == 'locked' else payload
    with pytest.raises(exception.BadRequest, match=hint) as info:
        tls_files.load_p12(data, password)
    assert 'bad' not in str(info.value).replace('BadRequest', '')


def test_check_mode():
    assert tls_files.check_mode(None) == 'basic'
    assert tls_files.check_mode('mtls') == 'mtls'
    with pytest.raises(exception.BadRequest):
        tls_files.check_mode('strict')


def test_store_stage_disable_rollback(tmp_path, bundles):
    store = tls_files.TlsStore(str(tmp_path), None)
    assert store.current() is None and not store.has_previous()
    store.stage(tls_files.load_p12(bundles[0]['p12_payload']), 'basic')
    key = store.path(tls_files.KEY_FILE)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(key)).st_mode) == 0o700
    store.stage(tls_files.load_p12(bundles[1]['p12_payload'], 'pw'), 'enforced')
    assert store.current()['mode'] == 'enforced' and store.cert_pem() == bundles[1]['cert']
    store.rollback()
    assert store.current()['mode'] == 'basic' and store.cert_pem() == bundles[0]['cert']
    with pytest.raises(exception.BadRequest):
        store.rollback()  # one step back only
    store.disable()
    assert store.current() is None and not os.path.exists(key)
    store.rollback()
    assert store.cert_pem() == bundles[0]['cert']


def test_mariadb_conf_per_mode(tmp_path, bundles):
    store = tls_files.TlsStore(str(tmp_path), None)
    assert mysql_tls.render(store).splitlines() == ['# TLS, written by the trove guest agent.',
                                                    '[mysqld]']
    store.stage(tls_files.load_p12(bundles[0]['p12_payload']), 'basic')
    text = mysql_tls.render(store)
    assert 'ssl_key = %s' % store.path('server.key') in text
    assert 'ssl_ca = ' in text and 'require_secure_transport' not in text
    store.stage(tls_files.load_p12(bundles[0]['p12_payload']), 'mtls')
    assert 'require_secure_transport = ON' in mysql_tls.render(store)


def test_postgresql_conf_and_hba_per_mode(tmp_path, bundles):
    store = tls_files.TlsStore(str(tmp_path), None)
    assert 'ssl = off' in pg_tls.render(store)
    store.stage(tls_files.load_p12(bundles[0]['p12_payload']), 'basic')
    assert "ssl_ca_file = '%s'" % store.path('ca.crt') in pg_tls.render(store)

    def rules(mode):
        return [line.split() for line in pg_config.render_hba(
            'os_admin', [('os_repl', '10.0.0.2/32')], mode).splitlines()
            if line and not line.startswith('#')][4:]
    assert rules('basic') == rules(None) == [
        ['host', 'all', 'all', 'all', 'scram-sha-256'],
        ['host', 'replication', 'os_repl', '10.0.0.2/32', 'scram-sha-256']]
    assert rules('enforced') == [
        ['hostnossl', 'all', 'all', 'all', 'reject'],
        ['hostssl', 'all', 'all', 'all', 'scram-sha-256'],
        ['hostssl', 'replication', 'os_repl', '10.0.0.2/32', 'scram-sha-256']]
    assert rules('mtls')[1] == ['hostssl', 'all', 'all', 'all', 'cert']


class _Child:
    @staticmethod
    def running_pid():
        return None  # the engine is down, as at prepare


def _engine(paths):
    return types.SimpleNamespace(paths=paths, app=types.SimpleNamespace(child=_Child()))


@pytest.mark.parametrize('engine', ['mariadb', 'postgresql'])
def test_tls_state_on_the_volume_survives_a_new_state_dir(tmp_path, bundles, engine):
    """A rebuild keeps the volume and gives the guest an empty state dir:
    restore() at prepare writes the engine's TLS config from the volume."""
    cfg, tls_mod, name = ((mysql_config, mysql_tls, mysql_tls.TLS_FILE) if engine == 'mariadb'
                          else (pg_config, pg_tls, pg_config.TLS_FILE))

    def paths(state):
        return cfg.Paths(datadir=str(tmp_path / 'volume' / 'data'), run_dir=str(state / 'run'),
                         log_dir=str(state / 'log'), state_dir=str(state))
    old = paths(tmp_path / 'old-root')
    os.makedirs(old.conf_d)
    tls_mod_engine = {'mariadb': mysql_tls.MariaDBTls,
                      'postgresql': pg_tls.PostgreSQLTls}[engine](_engine(old))
    tls_mod_engine.store.stage(tls_files.load_p12(bundles[0]['p12_payload']), 'enforced')
    assert tls_mod_engine.store.root == str(tmp_path / 'volume' / 'tls')

    new = paths(tmp_path / 'new-root')
    os.makedirs(new.conf_d)
    rebuilt = type(tls_mod_engine)(_engine(new))
    assert rebuilt.show()['mode'] == 'enforced'
    rebuilt.restore()
    with open(os.path.join(new.conf_d, name)) as f:
        text = f.read()
    assert text == tls_mod.render(rebuilt.store)
    assert rebuilt.store.path(tls_files.CERT_FILE) in text
    if engine == 'mariadb':
        assert 'require_secure_transport = ON' in text
    else:
        assert pg_config.tls_mode(new) == 'enforced'
