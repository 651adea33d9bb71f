"""Files the taskmanager injects into a new server for its guest agent."""
import os

from trove.common import rpc_crypto
from trove.conf import CONF
from trove.conf.backup import guest_lines as backup_guest_lines
from trove.conf.guest_log import guest_lines as guest_log_lines

CONF_DIR = '/etc/trove/conf.d'


def guest_info(instance, ds_version, manager):
    """guest_info.conf: who the guest is, which engine it runs, its RPC key.

    The plain instance key goes only into this file of this guest (written
    0600 by the compute driver); keyless instances talk in clear.
    """
    text = ('[DEFAULT]\n'
            'guest_id = %s\n'
            'datastore_manager = %s\n'
            'datastore_version = %s\n'
            'tenant_id = %s\n' % (instance.id, manager, ds_version, instance.tenant_id))
    if getattr(instance, 'encrypted_key', None):
        text += 'instance_rpc_encr_key = %s\n' % rpc_crypto.decrypt_instance_key(
            instance.encrypted_key)
    return text


def guest_config():
    """trove-guestagent.conf: the operator's file if present, else derived from ours.

    The derived file carries only what a guest needs to reach the broker; it
    is written into the guest's own config, never logged.
    """
    if CONF.guest_config and os.path.exists(CONF.guest_config):
        with open(CONF.guest_config) as f:
            return f.read()
    lines = ['[DEFAULT]']
    if CONF.transport_url:
        lines.append('transport_url = %s' % CONF.transport_url)
    lines += ['control_exchange = %s' % CONF.control_exchange,
              'conductor_queue = %s' % CONF.conductor_queue,
              'report_interval = %d' % CONF.report_interval,
              # The healing policy of crashed engines is the operator's.
              'engine_restart_limit = %d' % CONF.engine_restart_limit,
              'engine_restart_window = %d' % CONF.engine_restart_window,
              'replication_broken_after = %d' % CONF.replication_broken_after,
              'debug = %s' % CONF.debug]
    lines += guest_log_lines()
    lines += backup_guest_lines()
    return '\n'.join(lines) + '\n'


def spare_files(manager, flavor_ram_mb):
    """Files of a spare server: an engine to start, no identity and no key."""
    info = ('[DEFAULT]\n'
            'datastore_manager = %s\n'
            'spare = true\n'
            'spare_flavor_ram = %d\n' % (manager, flavor_ram_mb))
    return {
        CONF_DIR + '/guest_info.conf': info,
        CONF_DIR + '/trove-guestagent.conf': guest_config(),
    }


def injected_files(instance, ds_version, manager):
    """Map of in-server path -> content."""
    return {
        CONF_DIR + '/guest_info.conf': guest_info(instance, ds_version, manager),
        CONF_DIR + '/trove-guestagent.conf': guest_config(),
    }
