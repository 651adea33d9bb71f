"""The cloud tempest talks to: a real Keystone, a real Barbican and a private
trove stack.

Keystone comes from tests/functional/keystone_server.py and Barbican (the
``key-manager`` of the catalog, where the plugin's SSL classes keep their
PKCS#12 containers) from tests/functional/barbican_server.py; the stack is a
tests/functional/stack.py Stack whose API runs the production ``trove``
pipeline (keystonemiddleware authtoken) against that Keystone, with the
mariadb and postgresql datastores of this machine registered twice, as the
machine has one engine version of each: the real name on the local image
IMAGE_ID (images.json: the host's engine binaries), and a "pre-upgrade"
name on the driver's built-in image.  The plugin's upgrade tests go from
the second to the first (a new server image, the volume kept); its rebuild
tests rebuild onto IMAGE_ID.
"""
import json
import os
import shutil
import subprocess
from dataclasses import dataclass

from tests.functional import stack as ft_stack
from tests.functional.barbican_server import Barbican
from tests.functional.helpers import pg_version
from tests.functional.keystone_server import ADMIN_PASSWORD, Keystone

REGION = 'RegionOne'
IMAGE_ID = 'local-image'
PRE_UPGRADE_SUFFIX = '-pre-upgrade'


@dataclass
class DatastoreVersion:
    """One datastore as registered: version name, engine version, manager."""

    datastore: str
    name: str
    number: str

    @property
    def pre_upgrade(self):
        return self.name + PRE_UPGRADE_SUFFIX


def _mariadb_number():
    """'10.11.19' from ``mariadbd --version``: what @@innodb_version answers."""
    out = subprocess.run(['mariadbd', '--version'], capture_output=True, text=True).stdout
    for word in out.replace('-', ' ').split():
        if word[:1].isdigit() and word.count('.') >= 2:
            return word
    raise RuntimeError('cannot read the MariaDB version from %r' % out)


def _postgres_number(major):
    """'15.20' from ``postgres --version``: what SHOW server_version starts with."""
    binary = '/usr/lib/postgresql/%s/bin/postgres' % major
    out = subprocess.run([binary, '--version'], capture_output=True, text=True).stdout
    return out.split()[2]


def local_datastores():
    """The mariadb and postgresql versions this machine can run."""
    pg = pg_version()
    if not pg:
        raise RuntimeError('PostgreSQL binaries are missing')
    return [DatastoreVersion('mariadb', ft_stack.engine_version(), _mariadb_number()),
            DatastoreVersion('postgresql', pg, _postgres_number(pg))]


class TempestStack(ft_stack.Stack):
    """A Stack on the ``trove`` pipeline against ``keystone``, with a backup
    store, reading the users' secrets from ``barbican`` through castellan."""

    def __init__(self, keystone, barbican, datastores):
        self.keystone = keystone
        self.barbican = barbican
        self.datastores = datastores
        super().__init__(tenant=None)

    def _config(self, usage_timeout, address_prefix):
        ks = self.keystone
        return super()._config(usage_timeout, address_prefix) + '\n'.join([
            '[DEFAULT]', 'api_pipeline = trove',
            '[keystone_authtoken]',
            'www_authenticate_uri = %s' % ks.url, 'auth_url = %s' % ks.url,
            'auth_type = password', 'username = admin', 'password = %s' % ADMIN_PASSWORD,
            'project_name = admin', 'user_domain_id = default', 'project_domain_id = default',
            'region_name = %s' % REGION,
            '[key_manager]', 'backend = barbican',
            '[barbican]', 'barbican_endpoint = %s' % self.barbican.url,
            'barbican_api_version = v1', 'auth_endpoint = %s' % ks.url,
            '[backup]', 'local_store_path = %s' % os.path.join(self.dir, 'backups'),
            '']) + '\n'

    def _write_images(self):
        """The local driver's image catalogue: IMAGE_ID runs the host's engines."""
        bin_dirs = [os.path.dirname(shutil.which('mariadbd') or '/usr/sbin/mariadbd')]
        bin_dirs += ['/usr/lib/postgresql/%s/bin' % ds.name for ds in self.datastores
                     if ds.datastore == 'postgresql']
        os.makedirs(self.base_dir, exist_ok=True)
        with open(os.path.join(self.base_dir, 'images.json'), 'w') as f:
            json.dump([{'id': IMAGE_ID, 'name': 'engines of this host (tempest)',
                        'bin_dirs': bin_dirs}], f)

    def start(self, datastore_versions=()):
        """db_sync, register both names of every datastore, start the daemons."""
        os.makedirs(os.path.join(self.dir, 'log'), exist_ok=True)
        self._write_images()
        self.manage('db_sync')
        for ds in self.datastores:
            self.manage('datastore_update', ds.datastore)
            for name, image in ((ds.name, IMAGE_ID), (ds.pre_upgrade, '')):
                # The manager's validation rules are loaded with the version.
                self.manage('datastore_version_update', ds.datastore, name, ds.datastore,
                            image, '', '1', '--version', ds.number)
            self.manage('datastore_update', ds.datastore, ds.name)
        for name in ft_stack.DAEMONS:
            self.start_daemon(name)
        self.wait_api()
        return self

    @property
    def endpoint_template(self):
        """The catalog URL of the ``database`` service (Keystone fills the project)."""
        return 'http://127.0.0.1:%d/v1.0/$(project_id)s' % self.port


def _started(server):
    """``server`` started (the caller stops it), or stopped when it cannot start."""
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise


def _make(cls, *args):
    """A ``cls`` server; its venv's install failure as a RuntimeError."""
    try:
        return cls(*args)
    except BaseException as err:
        # throwaway_venv skips the pytest test when the venv cannot be installed.
        if type(err).__name__ == 'Skipped':
            raise RuntimeError('%s: %s' % (cls.__name__, err)) from None
        raise


def start_keystone():
    """A started Keystone (the caller stops it)."""
    return _started(_make(Keystone))


def start_barbican(keystone):
    """A started Barbican (SQLite, simple_crypto) behind ``keystone``."""
    return _started(_make(Barbican, keystone))


def _register_service(keystone, service_type, name, url):
    """Put ``name`` in Keystone's catalog as ``service_type`` at ``url``."""
    token = keystone.admin_token()
    status, _, body = keystone.call('POST', '/services', {'service': {
        'type': service_type, 'name': name, 'enabled': True}}, token)
    if status != 201:
        raise RuntimeError('cannot create the %s service: %s %s' % (service_type, status, body))
    service_id = body['service']['id']
    for interface in ('public', 'internal', 'admin'):
        status, _, body = keystone.call('POST', '/endpoints', {'endpoint': {
            'service_id': service_id, 'interface': interface, 'region_id': REGION,
            'url': url, 'enabled': True}}, token)
        if status != 201:
            raise RuntimeError('cannot create the %s endpoint of %s: %s %s'
                               % (interface, service_type, status, body))


def register_database_service(keystone, stack):
    """Put trove in Keystone's catalog as the ``database`` service."""
    _register_service(keystone, 'database', 'trove', stack.endpoint_template)


def register_key_manager_service(keystone, barbican):
    """Put Barbican in the catalog as ``key-manager`` (barbican-tempest-plugin's
    secret clients find it there; trove's castellan is given the URL)."""
    _register_service(keystone, 'key-manager', 'barbican', barbican.url)
