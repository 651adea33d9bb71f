"""tempest.conf for the plugin against the private cloud (see
/work/shared/reference/tempest-notes.md for where each value comes from)."""
import os
import uuid
from dataclasses import dataclass

from tests.functional.keystone_server import ADMIN_PASSWORD
from tests.tempest.cloud import IMAGE_ID

# The local driver's built-in flavors (trove/compute/base.py): m1.tiny to
# build, m1.small to resize to.
FLAVOR_ID = '1'
RESIZE_FLAVOR_ID = '2'
# What the plugin passes to the mgmt rebuild action: an image of the local
# driver's catalogue (tests/tempest/cloud.py writes it).
REBUILD_IMAGE_ID = IMAGE_ID


@dataclass
class Timeouts:
    """Seconds; sized for a shared 2-core machine where a build takes ~1 min."""

    build: int = 600
    restore: int = 600
    backup: int = 600


def render(keystone_url, datastores, workdir, timeouts=None):
    """The text of tempest.conf."""
    t = timeouts or Timeouts()
    defaults = ','.join('%s:%s' % (d.datastore, d.name) for d in datastores)
    pre = ','.join('%s:%s' % (d.datastore, d.pre_upgrade) for d in datastores)
    sections = {
        'DEFAULT': {'log_file': os.path.join(workdir, 'tempest.log'), 'debug': 'True'},
        'oslo_concurrency': {'lock_path': os.path.join(workdir, 'locks')},
        'auth': {
            'use_dynamic_credentials': 'True', 'create_isolated_networks': 'False',
            'admin_username': 'admin', 'admin_password': ADMIN_PASSWORD,
            'admin_project_name': 'admin', 'admin_domain_name': 'Default',
            'default_credentials_domain_name': 'Default'},
        'identity': {'uri_v3': keystone_url, 'auth_version': 'v3', 'region': 'RegionOne',
                     'v3_endpoint_type': 'public'},
        'identity-feature-enabled': {'api_v2': 'False', 'api_v3': 'True'},
        'service_available': {'trove': 'True', 'nova': 'False', 'neutron': 'False',
                              'glance': 'False', 'cinder': 'False', 'swift': 'False',
                              'horizon': 'False', 'barbican': 'True'},
        # barbican-tempest-plugin's secret clients (the SSL classes' containers).
        'key_manager': {'catalog_type': 'key-manager', 'region': 'RegionOne',
                        'endpoint_type': 'publicURL'},
        'database': {
            'catalog_type': 'database', 'endpoint_type': 'publicURL',
            'enabled_datastores': ','.join(d.datastore for d in datastores),
            'default_datastore_versions': defaults,
            'pre_upgrade_datastore_versions': pre,
            'flavor_id': FLAVOR_ID, 'resize_flavor_id': RESIZE_FLAVOR_ID,
            # A UUID is used as is: the plugin never asks Neutron.
            'shared_network': str(uuid.UUID(int=0x7e57)),
            'database_build_timeout': str(t.build),
            'database_restore_timeout': str(t.restore),
            'backup_wait_timeout': str(t.backup),
            # Else every backup class deletes the user's Swift account.
            'remove_swift_account': 'False',
            'rebuild_image_id': REBUILD_IMAGE_ID,
            'run_full_tests': 'True'},
    }
    lines = []
    for name, options in sections.items():
        lines.append('[%s]' % name)
        lines += ['%s = %s' % item for item in options.items()]
        lines.append('')
    return '\n'.join(lines)
