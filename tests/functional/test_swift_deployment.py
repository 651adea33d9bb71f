"""End to end on a deployment whose object store is a real Swift behind Keystone.

A member of a project creates a MariaDB instance through the real
``openstack`` CLI (Keystone password auth, the ``database`` endpoint from
the catalog); its backup goes into the project's own Swift account, a new
instance is restored from it with the rows intact, the general log is
published into ``database_logs`` and ``openstack database log tail`` /
``log save`` and the legacy ``trove log-tail`` (python-troveclient reading
Swift with the user's own credentials, as upstream) print the published lines.  Deleting the backup
empties the containers.
"""
import os
import subprocess
import time

import pytest
from swiftclient import client as swift_client

from tests.functional import helpers
from tests.functional.keystone_server import ADMIN_PASSWORD
from tests.functional.stack import BIN, Stack
from tests.functional.swift_server import object_names

USER, PASSWORD, PROJECT = 'swift-user', 'swift-user-pw', 'swift-project'
ROWS = [(i, 'row-%03d' % i) for i in range(1, 31)]
MARKER = 'swift-log-marker-77'


class SwiftStack(Stack):
    """All daemons; the API on ``keystone``, backups and logs in ``swift``."""

    def __init__(self, keystone, swift, project_id, token):
        self.keystone, self.swift = keystone, swift
        super().__init__(tenant=project_id)
        self.auth_token = token

    def _config(self, usage_timeout, address_prefix):
        ks, sw = self.keystone, self.swift
        auth = ['auth_url = %s' % ks.url, 'auth_type = password', 'username = admin',
                'password = %s' % ADMIN_PASSWORD, 'project_name = admin',
                'user_domain_id = default', 'project_domain_id = default']
        return super()._config(usage_timeout, address_prefix) + '\n'.join([
            '[DEFAULT]', 'api_pipeline = trove',
            '[keystone_authtoken]', 'www_authenticate_uri = %s' % ks.url, *auth,
            'region_name = RegionOne',
            '[backup]', 'storage_driver = swift', 'swift_url = %s' % sw.url_template,
            'swift_auth_url = %s' % ks.url, 'swift_user = admin',
            'swift_key = %s' % ADMIN_PASSWORD, 'swift_project = admin',
            # Several segments per backup: the restore reads a real SLO.
            'swift_segment_size = 65536', 'stall_timeout = 120', 'progress_interval = 2',
            '']) + '\n'

    def register_database_endpoint(self):
        ks = self.keystone
        admin = ks.admin_token()
        _, _, body = ks.call('POST', '/services', {'service': {
            'type': 'database', 'name': 'trove', 'enabled': True}}, admin)
        for interface in ('public', 'internal'):
            status, _, _ = ks.call('POST', '/endpoints', {'endpoint': {
                'service_id': body['service']['id'], 'interface': interface,
                'region_id': 'RegionOne',
                'url': 'http://127.0.0.1:%d/v1.0/$(project_id)s' % self.port}}, admin)
            assert status == 201

    def cli(self, *args, check=True, program='openstack'):
        """``openstack ...`` (or the legacy ``trove ...``) as the project's
        member, through Keystone's catalog."""
        env = dict(os.environ, OS_AUTH_URL=self.keystone.url, OS_USERNAME=USER,
                   OS_PASSWORD=PASSWORD, OS_PROJECT_NAME=PROJECT, OS_USER_DOMAIN_ID='default',
                   OS_PROJECT_DOMAIN_ID='default', OS_REGION_NAME='RegionOne',
                   OS_IDENTITY_API_VERSION='3')
        res = subprocess.run([os.path.join(BIN, program), *args], capture_output=True,
                             text=True, timeout=120, env=env)
        if check and res.returncode != 0:
            raise AssertionError('%s failed: %s%s' % (' '.join(args), res.stdout, res.stderr))
        return res


@pytest.fixture(scope='module')
def stack(keystone, keystone_swift):
    project_id = keystone.create_member(USER, PASSWORD, PROJECT)
    token, _ = keystone.token(USER, PASSWORD, PROJECT)
    st = SwiftStack(keystone, keystone_swift, project_id, token)
    st.register_database_endpoint()
    try:
        yield st.start()
    finally:
        st.stop()


def _user_swift(stack):
    """A Swift connection as the member (the account the CLI reads)."""
    return swift_client.Connection(stack.keystone.url, USER, PASSWORD, auth_version='3',
                                   os_options={'project_name': PROJECT,
                                               'user_domain_id': 'default',
                                               'project_domain_id': 'default'})


def _create(stack, name, backup=None):
    args = ['database', 'instance', 'create', name, '--flavor', '2', '--size', '1',
            '--datastore', 'mariadb']
    args += ['--backup', backup] if backup else ['--databases', 'shop',
                                                 '--users', 'alice:s3cret-Pw']
    return stack.cli_json(*args)['id']


def _rows(inst):
    return [tuple(r) for r in helpers.mariadb_sql(inst, 'alice', 's3cret-Pw',
                                                  'SELECT id, name FROM items ORDER BY id')]


def _wait_backup(stack, backup_id, timeout=300):
    deadline = time.time() + timeout
    while True:
        shown = stack.cli_json('database', 'backup', 'show', backup_id)
        if shown['status'] in ('COMPLETED', 'FAILED') or time.time() > deadline:
            return shown
        time.sleep(1)


def _publish_marker(stack, instance_id, timeout=15):
    """Publish until the marker is in Swift (MariaDB writes its general log
    asynchronously, so the first publish may be too early)."""
    conn, deadline = _user_swift(stack), time.monotonic() + timeout
    prefix = '%s/mariadb-general/' % instance_id
    while True:
        stack.cli_json('database', 'log', 'set', instance_id, 'general', '--publish')
        parts = [n for n in object_names(conn, 'database_logs') if n.startswith(prefix)]
        if any(MARKER.encode() in conn.get_object('database_logs', n)[1] for n in parts):
            return parts
        assert time.monotonic() < deadline, 'marker never published: %r' % parts
        time.sleep(0.5)


def test_backup_restore_and_log_tail_through_swift(stack, tmp_path):
    source = _create(stack, 'sw-source')
    inst = helpers.ready(stack, source)
    helpers.mariadb_sql(inst, 'alice', 's3cret-Pw',
                        'CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))')
    for row in ROWS:
        helpers.mariadb_sql(inst, 'alice', 's3cret-Pw', 'INSERT INTO items VALUES (%s, %s)',
                            row)

    backup = stack.cli_json('database', 'backup', 'create', 'sw-full', '--instance', source)
    backup = _wait_backup(stack, backup['id'])
    assert backup['status'] == 'COMPLETED', backup
    user_swift = _user_swift(stack)
    [manifest] = [n for n in object_names(user_swift, 'database_backups')
                  if n.startswith(backup['id'])]
    assert len(object_names(user_swift, 'database_backups_segments')) > 1
    # A static large object of the segments, in the user's own account.
    assert user_swift.head_object('database_backups', manifest)[
        'x-static-large-object'] == 'True'

    restored = _create(stack, 'sw-restored', backup=backup['id'])
    try:
        assert _rows(helpers.ready(stack, restored)) == ROWS
    finally:
        stack.cli('database', 'instance', 'delete', restored)

    # The general log, published into the user's database_logs, read back by the CLI.
    stack.cli_json('database', 'log', 'set', source, 'general', '--enable')
    helpers.mariadb_sql(inst, 'alice', 's3cret-Pw', "SELECT '%s'" % MARKER)
    _publish_marker(stack, source)
    tail = stack.cli('database', 'log', 'tail', source, 'general', '--lines', '500')
    assert MARKER in tail.stdout, tail.stdout[-2000:]
    legacy = stack.cli('log-tail', source, 'general', program='trove')
    assert MARKER in legacy.stdout, legacy.stdout[-2000:] + legacy.stderr
    saved = tmp_path / 'general.log'
    res = stack.cli('database', 'log', 'save', source, 'general', '--file', str(saved))
    assert MARKER in saved.read_text(), res.stdout

    stack.cli('database', 'instance', 'delete', source)
    stack.cli('database', 'backup', 'delete', backup['id'])
    helpers.eventually(lambda: (object_names(user_swift, 'database_backups'),
                                object_names(user_swift, 'database_backups_segments')),
                       ([], []), timeout=60)
    for instance_id in (source, restored):
        stack.wait_instance(instance_id, helpers.gone, timeout=120)
