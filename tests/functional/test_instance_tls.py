"""TLS of a MariaDB instance end to end: the ``trove`` pipeline against a
real Keystone, certificates in a real Barbican, every daemon over RabbitMQ,
a real guest and engine on the local driver.

The requests and checks follow the plugin's SSL tests (basic, renew with a
password-protected container, enforced, rollback, consumers, delete, and
``test_ssl_rebuild``: enforced TLS survives a rebuild on a new root disk).
"""
import os
import shutil
import tempfile
import time

import psycopg
import pymysql
import pytest

from tests.functional import helpers, tls_certs
from tests.functional.helpers import server_state
from tests.functional.keystone_server import ADMIN_PASSWORD
from tests.functional.stack import Stack, engine_version

PASSWORD = 'app-tls-pw'
P12_PASSWORD = 'p12-Secret-pw'


class TlsStack(Stack):
    """All daemons; the API on keystone, castellan pointed at ``barbican``."""

    def __init__(self, keystone, barbican, project_id, token):
        self.keystone, self.barbican = keystone, barbican
        super().__init__(tenant=project_id)
        self.auth_token = token

    def _config(self, usage_timeout, address_prefix):
        ks = self.keystone
        return super()._config(usage_timeout, address_prefix) + '\n'.join([
            '[DEFAULT]', 'api_pipeline = trove',
            '[keystone_authtoken]',
            'www_authenticate_uri = %s' % ks.url, 'auth_url = %s' % ks.url,
            'auth_type = password', 'username = admin', 'password = %s' % ADMIN_PASSWORD,
            'project_name = admin', 'user_domain_id = default', 'project_domain_id = default',
            'region_name = RegionOne',
            '[key_manager]', 'backend = barbican',
            '[barbican]', 'barbican_endpoint = %s' % self.barbican.url,
            'barbican_api_version = v1', 'auth_endpoint = %s' % ks.url, '']) + '\n'


@pytest.fixture(scope='module')
def stack(keystone, barbican):
    project_id = keystone.create_member('tls-user', 'tls-user-pw', 'tls-project')
    token, _ = keystone.token('tls-user', 'tls-user-pw', 'tls-project')
    st = TlsStack(keystone, barbican, project_id, token)
    helpers.with_store(st)  # replicas start from a backup of their primary
    pg = helpers.pg_version()
    st.versions = {'mariadb': engine_version(), 'postgresql': pg}
    try:
        yield st.start(datastore_versions=[('postgresql', pg, 'postgresql')] if pg else [])
    finally:
        st.stop()


@pytest.fixture(scope='module')
def instance(stack):
    code, reply = stack.request('POST', '/instances', {'instance': {
        'name': 'tls', 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb'}, 'databases': [{'name': 'shop'}],
        'users': [{'name': 'app', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}]}})
    assert code == 200, reply
    return helpers.ready(stack, reply['instance']['id'])


def _address(inst):
    return inst['addresses'][0]['address']


def _connect(inst, ca=None, identity=True):
    """True when ``app`` gets a session: plain (no ``ca``) or TLS verified
    against ``ca`` (and the address, unless ``identity`` is false)."""
    kwargs = ({'ssl_ca': ca, 'ssl_verify_identity': identity, 'ssl_verify_cert': True}
              if ca else {'ssl_disabled': True})
    try:
        conn = pymysql.connect(host=_address(inst), port=3306, user='app', password=PASSWORD,
                               database='shop', connect_timeout=10, **kwargs)
    except pymysql.err.OperationalError:
        return False
    with conn.cursor() as cur:
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        cipher = cur.fetchone()[1]
    conn.close()
    return bool(cipher) == bool(ca)


def _ssl(stack, inst, body):
    return stack.request('POST', '/instances/%s/ssl' % inst['id'], {'ssl': body})


def _restart_if_required(stack, inst, reply):
    if reply['ssl']['restart_required']:
        code, body = stack.request('POST', '/instances/%s/action' % inst['id'],
                                   {'restart': {}})
        assert code == 202, body
        stack.wait_instance(inst['id'], lambda c, b: b['instance'].get('status') == 'ACTIVE'
                            and b['instance'].get('operating_status') == 'HEALTHY')


def _consumers(stack, ref):
    return [c['resource_id'] for c in stack.barbican.consumers(stack.auth_token, ref)]


def _assert_no_secret_logged(stack, secrets):
    """No daemon, guest agent or engine log of the stack holds a secret."""
    logs = 0
    for root, _dirs, names in os.walk(stack.dir):
        for name in names:
            if not name.endswith(('.log', '.out', '.err')):
                continue
            with open(os.path.join(root, name), errors='replace') as f:
                text = f.read()
            logs += 1
            assert 'PRIVATE KEY' not in text, name
            assert not [s for s in secrets if s in text], name
    assert logs >= 5  # api, taskmanager, conductor, the guest, the engine


def test_tls_lifecycle(stack, instance):
    token, bar = stack.auth_token, stack.barbican
    a = tls_certs.make_bundle(_address(instance), 'app', ca_name='CA one')
    b = tls_certs.make_bundle(_address(instance), 'app', P12_PASSWORD, ca_name='CA two')
    a_ref = bar.create_p12_secret(token, a['p12_payload'], 'p12-a')
    b_ref = bar.create_p12_secret(token, b['p12_payload'], 'p12-b')
    pw_ref = bar.create_passphrase(token, P12_PASSWORD)
    tmp = tempfile.mkdtemp(prefix='trove-tls-ca-')
    ca_a = tls_certs.write_client_files(tmp, a, 'a')['ca']
    ca_b = tls_certs.write_client_files(tmp, b, 'b')['ca']

    code, reply = _ssl(stack, instance, {'enable': True, 'container_ref': a_ref})
    assert code == 200, reply
    assert _consumers(stack, a_ref) == [instance['id']]
    _restart_if_required(stack, instance, reply)
    code, shown = stack.request('GET', '/instances/%s/ssl' % instance['id'])
    assert (code, shown['ssl']['status'], shown['ssl']['mode']) == (200, 'on', 'basic')
    assert _connect(instance, ca_a) and not _connect(instance, ca_b)
    assert _connect(instance)  # basic keeps plain

    code, reply = _ssl(stack, instance, {'enable': True, 'container_ref': b_ref})
    assert code == 400, reply  # the container needs its password
    assert _consumers(stack, b_ref) == []
    code, reply = _ssl(stack, instance, {'enable': True, 'container_ref': b_ref,
                                         'password_ref': pw_ref, 'mode': 'enforced'})
    assert (code, reply['ssl']['restart_required']) == (200, False), reply
    assert _consumers(stack, a_ref) == [] and _consumers(stack, b_ref) == [instance['id']]
    assert not _connect(instance) and _connect(instance, ca_b)

    code, reply = _ssl(stack, instance, {'rollback': True})
    assert (code, reply['ssl']['mode']) == (200, 'basic'), reply
    assert _connect(instance) and _connect(instance, ca_a) and not _connect(instance, ca_b)
    assert _ssl(stack, instance, {'rollback': True})[0] == 400

    # A replica made now serves its primary's certificate (issued for the
    # primary's address: the client checks the CA only, as the plugin does).
    code, reply = stack.request('POST', '/instances', {'instance': {
        'name': 'tls-replica', 'replica_of': instance['id']}})
    assert code == 200, reply
    replica = helpers.ready(stack, reply['instance']['id'], timeout=600)
    code, shown = stack.request('GET', '/instances/%s/ssl' % replica['id'])
    assert (code, shown['ssl']['status'], shown['ssl']['mode']) == (200, 'on', 'basic')
    assert _connect(replica, ca_a, identity=False)
    assert not _connect(replica, ca_b, identity=False)
    assert sorted(_consumers(stack, a_ref)) == sorted([instance['id'], replica['id']])
    code, _ = stack.request('DELETE', '/instances/%s' % replica['id'])
    assert code == 202
    assert _consumers(stack, a_ref) == [instance['id']]
    stack.wait_instance(replica['id'], lambda c, b: c == 404, timeout=120)

    _assert_no_secret_logged(stack, [P12_PASSWORD, a['key'].strip(), b['key'].strip()])

    code, _ = stack.request('DELETE', '/instances/%s' % instance['id'])
    assert code == 202
    assert _consumers(stack, a_ref) == []
    for name in os.listdir(tmp):
        os.remove(os.path.join(tmp, name))
    os.rmdir(tmp)


def _as_admin(stack, method, path, body=None):
    """A request with the cloud admin's token in the admin project (mgmt API)."""
    token, token_body = stack.keystone.token('admin', ADMIN_PASSWORD, 'admin')
    saved = stack.tenant, stack.auth_token
    stack.tenant, stack.auth_token = token_body['project']['id'], token
    try:
        return stack.request(method, path, body)
    finally:
        stack.tenant, stack.auth_token = saved


def _agent_pid(stack, iid):
    code, body = _as_admin(stack, 'GET', '/mgmt/instances/%s' % iid)
    assert code == 200, body
    return server_state(stack, body['instance']['server_id'])['pid']


def _pg_connect(inst, ca=None, identity=True):
    """True when ``app`` gets a PostgreSQL session: plain (no ``ca``) or TLS
    verified against ``ca`` and the address (verify-full; verify-ca when
    ``identity`` is false)."""
    kwargs = ({'sslmode': 'verify-full' if identity else 'verify-ca', 'sslrootcert': ca}
              if ca else {'sslmode': 'disable'})
    try:
        with psycopg.connect(host=_address(inst), port=5432, user='app', password=PASSWORD,
                             dbname='shop', connect_timeout=10, **kwargs) as conn:
            row = conn.execute('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
            return row.fetchone()[0] == bool(ca)
    except psycopg.OperationalError:
        return False


@pytest.mark.parametrize('engine', ['mariadb', 'postgresql'])
def test_enforced_tls_survives_a_rebuild(stack, engine):
    """The plugin's test_ssl_rebuild: a rebuild gives the server a new root
    disk (the agent's state dir and conf.d go) and keeps the volume; the
    new guest serves the same certificate in the same mode."""
    if not stack.versions[engine]:
        pytest.skip('%s binaries are missing' % engine)
    token, bar = stack.auth_token, stack.barbican
    connect = _connect if engine == 'mariadb' else _pg_connect
    code, reply = stack.request('POST', '/instances', {'instance': {
        'name': 'tls-rebuild-' + engine, 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': engine, 'version': stack.versions[engine]},
        'databases': [{'name': 'shop'}],
        'users': [{'name': 'app', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}]}})
    assert code == 200, reply
    inst = helpers.ready(stack, reply['instance']['id'])
    bundle = tls_certs.make_bundle(_address(inst), 'app', ca_name='CA rebuild')
    ref = bar.create_p12_secret(token, bundle['p12_payload'], 'p12-rebuild')
    tmp = tempfile.mkdtemp(prefix='trove-tls-rebuild-')
    ca = tls_certs.write_client_files(tmp, bundle, 'r')['ca']
    code, reply = _ssl(stack, inst, {'enable': True, 'container_ref': ref, 'mode': 'enforced'})
    assert code == 200, reply
    _restart_if_required(stack, inst, reply)
    _, before = stack.request('GET', '/instances/%s/ssl' % inst['id'])
    assert before['ssl']['mode'] == 'enforced'
    assert not connect(inst) and connect(inst, ca)
    pid = _agent_pid(stack, inst['id'])

    code, body = _as_admin(stack, 'POST', '/mgmt/instances/%s/action' % inst['id'],
                           {'rebuild': {'image_id': 'local'}})
    assert code == 202, body
    started = time.time()
    # Done when a new agent (not the old one, not none yet) reports HEALTHY.
    body = stack.wait_instance(inst['id'], lambda c, b: c == 200 and (
        b['instance']['status'] == 'ERROR' or (
            b['instance']['status'] == 'ACTIVE'
            and b['instance'].get('operating_status') == 'HEALTHY'
            and _agent_pid(stack, inst['id']) not in (None, pid))), timeout=300)
    assert body['instance']['status'] == 'ACTIVE', body
    print('%s rebuild with TLS: HEALTHY after %.1f s' % (engine, time.time() - started))

    code, after = stack.request('GET', '/instances/%s/ssl' % inst['id'])
    assert (code, after['ssl']['status'], after['ssl']['mode']) == (200, 'on', 'enforced')
    assert after['ssl']['fingerprint'] == before['ssl']['fingerprint']
    assert after['ssl']['restart_required'] is False
    assert not connect(inst)  # plain TCP is still refused
    assert connect(inst, ca)  # TLS verifies against the CA and the address
    assert _consumers(stack, ref) == [inst['id']]  # the refs did not change

    code, _ = stack.request('DELETE', '/instances/%s' % inst['id'])
    assert code == 202
    stack.wait_instance(inst['id'], lambda c, b: c == 404, timeout=120)
    for name in os.listdir(tmp):
        os.remove(os.path.join(tmp, name))
    os.rmdir(tmp)


def test_postgresql_replica_of_an_enforced_primary(stack):
    """The plugin's test_ssl_replication_enforced on PostgreSQL: a replica of
    a primary that refuses plain TCP streams from it over TLS (the agent runs
    as root, the engine as postgres: libpq must not trip over root's HOME)
    and serves the same certificate in the same mode."""
    if not stack.versions['postgresql']:
        pytest.skip('PostgreSQL binaries are missing')
    code, reply = stack.request('POST', '/instances', {'instance': {
        'name': 'tls-pg-primary', 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': 'postgresql', 'version': stack.versions['postgresql']},
        'databases': [{'name': 'shop'}],
        'users': [{'name': 'app', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}]}})
    assert code == 200, reply
    primary = helpers.ready(stack, reply['instance']['id'])
    bundle = tls_certs.make_bundle(_address(primary), 'app', ca_name='CA replica')
    ref = stack.barbican.create_p12_secret(stack.auth_token, bundle['p12_payload'], 'p12-pg')
    tmp = tempfile.mkdtemp(prefix='trove-tls-pg-replica-')
    try:
        _replica_of_enforced(stack, primary, ref, tls_certs.write_client_files(
            tmp, bundle, 'p')['ca'])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _replica_of_enforced(stack, primary, ref, ca):
    code, reply = _ssl(stack, primary, {'enable': True, 'container_ref': ref,
                                        'mode': 'enforced'})
    assert code == 200, reply
    _restart_if_required(stack, primary, reply)
    assert not _pg_connect(primary) and _pg_connect(primary, ca)

    code, reply = stack.request('POST', '/instances', {'instance': {
        'name': 'tls-pg-replica', 'replica_of': primary['id']}})
    assert code == 200, reply
    replica = helpers.ready(stack, reply['instance']['id'], timeout=600)
    code, shown = stack.request('GET', '/instances/%s/ssl' % replica['id'])
    assert (code, shown['ssl']['status'], shown['ssl']['mode']) == (200, 'on', 'enforced')
    assert not _pg_connect(replica)
    assert _pg_connect(replica, ca, identity=False)
    assert sorted(_consumers(stack, ref)) == sorted([primary['id'], replica['id']])

    for inst in (replica, primary):
        code, _ = stack.request('DELETE', '/instances/%s' % inst['id'])
        assert code == 202
        stack.wait_instance(inst['id'], lambda c, b: c == 404, timeout=120)
    assert _consumers(stack, ref) == []
