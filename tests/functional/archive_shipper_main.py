"""A guest's archive shipper as a process of its own, for kill -9 tests.

``python -m tests.functional.archive_shipper_main CONFIG.json`` points CONF
at the test's private PostgreSQL (mount point, state dir, address, port),
then ships its ``pg_receivewal`` stream into a local store until killed.
"""
import json
import sys

from trove.backup.stores import local
from trove.conf import CONF
from trove.guestagent.archive import postgresql as pg_archive
from trove.guestagent.archive import shipper
from trove.guestagent.engines.postgresql import manager


def main(path):
    with open(path) as f:
        conf = json.load(f)
    for key in ('mount_point', 'guest_state_dir', 'host_address'):
        CONF.set_override(key, conf[key])
    CONF.set_override('port', conf['port'], group='postgresql')
    strategy = pg_archive.PgReceiveWal(manager.PostgreSQLEngine())
    ship = shipper.Shipper(strategy, local.LocalStore(conf['store']), conf['container'],
                           conf['prefix'], conf['spool'], conf['state'])
    ship.run()


if __name__ == '__main__':
    main(sys.argv[1])
