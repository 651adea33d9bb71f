"""[DEFAULT] options of guest logs (``/instances/{id}/log``).

Read by the guest agent, which publishes the logs; the control plane passes
them on in the guest config it derives (see taskmanager/guest_files.py).
"""
from oslo_config import cfg

opts = [
    cfg.StrOpt('guest_log_container_name', default='database_logs',
               help='Container (local store directory or Swift container) that '
                    'published guest logs go to.'),
    cfg.IntOpt('guest_log_limit', default=1000000, min=1,
               help='Most bytes one publish of a log uploads; older unpublished '
                    'bytes beyond it are skipped.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def guest_lines():
    """``name = value`` lines for the [DEFAULT] section of a derived guest config."""
    from trove.conf import CONF
    return ['%s = %s' % (opt.dest, CONF[opt.dest]) for opt in opts]
