"""oslo.config option groups for every trove daemon.

Each module in this package registers one group; importing this package
registers them all on the global ``CONF``.
"""
from oslo_config import cfg
from oslo_log import log as logging

from trove.conf import api as _api
from trove.conf import backup as _backup
from trove.conf import coordination as _coordination
from trove.conf import database as _database
from trove.conf import default as _default
from trove.conf import failover as _failover
from trove.conf import guest as _guest
from trove.conf import guest_log as _guest_log
from trove.conf import local as _local
from trove.conf import mariadb as _mariadb
from trove.conf import postgresql as _postgresql
from trove.conf import quota as _quota
from trove.conf import redis as _redis
from trove.conf import security as _security
from trove.conf import service_credentials as _service_credentials

CONF = cfg.CONF

for _mod in (_default, _api, _backup, _coordination, _database, _failover, _guest, _guest_log,
             _local, _mariadb, _quota, _postgresql, _redis, _security, _service_credentials):
    _mod.register_opts(CONF)


def _register_messaging_opts():
    # Register oslo.messaging's options up front so code may read
    # CONF.transport_url before the first transport exists.
    from oslo_messaging import opts as messaging_opts
    for group, group_opts in messaging_opts.list_opts():
        CONF.register_opts(group_opts, group=group)


_register_messaging_opts()
logging.register_options(CONF)
