"""trove.common.key_manager against a real Barbican (SQLite, simple_crypto)
behind a real Keystone: secrets created the way barbican-tempest-plugin
creates them are read back through castellan with the user's token, and the
instance is registered and removed as their consumer.

Both servers live in throwaway venvs under /tmp (see keystone_server.py,
barbican_server.py); the module is skipped when they cannot be installed.
"""
import pytest

from tests.functional import tls_certs
from trove.common import context as trove_context
from trove.common import exception, key_manager
from trove.conf import CONF
from trove.guestagent.engines.common import tls_files

P12_PASSWORD = 'p12-Secret-pw'
INSTANCE = '6f1d0f0e-3b1c-4c55-9a11-1d2f3a4b5c6d'


@pytest.fixture(scope='module')
def alice(keystone):
    project_id = keystone.create_member('alice', 'alice-pw', 'alice-project')
    token, _ = keystone.token('alice', 'alice-pw', 'alice-project')
    return project_id, token


@pytest.fixture(scope='module')
def castellan_conf(keystone, barbican):
    from castellan import options
    options.set_defaults(CONF, backend='barbican', barbican_endpoint=barbican.url,
                         barbican_api_version='v1', auth_endpoint=keystone.url)
    yield
    for name in ('barbican_endpoint', 'barbican_api_version', 'auth_endpoint'):
        CONF.set_default(name, None, group='barbican')


def _context(alice):
    project_id, token = alice
    return trove_context.TroveContext(auth_token=token, project_id=project_id)


def test_p12_and_password_come_back_through_castellan(barbican, alice, castellan_conf):
    bundle = tls_certs.make_bundle('127.0.0.9', 'alice', password=P12_PASSWORD)
    token = alice[1]
    ref = barbican.create_p12_secret(token, bundle['p12_payload'])
    pw_ref = barbican.create_passphrase(token, P12_PASSWORD)
    secrets = key_manager.Secrets(_context(alice))
    assert secrets.payload(ref) == bundle['p12_payload']
    assert secrets.password(pw_ref) == P12_PASSWORD
    # What the API hands to the guest opens there.
    material = tls_files.load_p12(secrets.payload(ref), secrets.password(pw_ref))
    assert material.cert_pem == bundle['cert']


def test_consumers_are_registered_and_removed(barbican, alice, castellan_conf):
    token = alice[1]
    ref = barbican.create_p12_secret(token, b'\x30\x03\x02\x01\x03', name='consumed')
    secrets = key_manager.Secrets(_context(alice))
    secrets.add_consumer(ref, INSTANCE)
    consumers = barbican.consumers(token, ref)
    assert [(c['service'], c['resource_type'], c['resource_id']) for c in consumers] == [
        ('trove', 'instance', INSTANCE)]
    secrets.remove_consumer(ref, INSTANCE)
    assert barbican.consumers(token, ref) == []


def test_unknown_and_foreign_secrets_are_bad_requests(barbican, keystone, alice,
                                                      castellan_conf):
    secrets = key_manager.Secrets(_context(alice))
    missing = barbican.url + '/v1/secrets/00000000-0000-4000-8000-000000000000'
    with pytest.raises(exception.BadRequest, match='not found'):
        secrets.payload(missing)
    keystone.create_member('mallory', 'mallory-pw', 'mallory-project')
    other_token = keystone.token('mallory', 'mallory-pw', 'mallory-project')[0]
    foreign = barbican.create_p12_secret(other_token, b'\x30\x00', name='foreign')
    with pytest.raises(exception.BadRequest):
        secrets.payload(foreign)  # another project's secret is not alice's to read
