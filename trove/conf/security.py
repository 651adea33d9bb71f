"""[DEFAULT] options of the encrypted RPC between the services and the guests.

The controller options (``inst_rpc_key_encr_key``, ``taskmanager_rpc_encr_key``)
belong in trove.conf; ``instance_rpc_encr_key`` is written by the taskmanager
into each guest's guest_info.conf and read only by that guest.  All keys are
``secret`` so oslo.config masks them when it logs its option values.
"""
from oslo_config import cfg

# Upstream ships fixed defaults so that an unconfigured deployment still
# works; we keep them for compatibility, and trove-api / trove-taskmanager warn
# at start when the master key was left at its default.
DEFAULT_MASTER_KEY = 'emYjgHFqfXNB1NGehAFIUeoyw4V4XwWHEaKP'
DEFAULT_TASKMANAGER_KEY = 'bzH6y0SGmjuoY0FNSTptrhgieGXNDX6PIhvz'

controller_opts = [
    cfg.BoolOpt('enable_secure_rpc_messaging', default=True,
                help='Encrypt and authenticate every RPC message to and from '
                     'guests with a per-instance key, and to the taskmanager '
                     'with taskmanager_rpc_encr_key.  Instances created while '
                     'this is off (or before it existed) have no key and '
                     'keep talking in clear.'),
    cfg.StrOpt('inst_rpc_key_encr_key', default=DEFAULT_MASTER_KEY, secret=True,
               help='Master key that encrypts the per-instance RPC keys stored '
                    'in the database (instances.encrypted_key).  Any string; '
                    'a Fernet key is used as is, anything else is hashed into '
                    'one.  Changing it makes the keys of existing instances '
                    'unreadable.'),
    cfg.StrOpt('taskmanager_rpc_encr_key', default=DEFAULT_TASKMANAGER_KEY,
               secret=True,
               help='Key of the messages from the API to the taskmanager; '
                    'both must have the same value.'),
]

guest_opts = [
    cfg.StrOpt('instance_rpc_encr_key', secret=True,
               help='Per-instance RPC key (guest_info.conf, written by the '
                    'taskmanager).  Unset means the guest talks in clear.'),
]

opts = controller_opts + guest_opts


def register_opts(conf):
    conf.register_opts(opts)
