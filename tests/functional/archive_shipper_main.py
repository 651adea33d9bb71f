"""A guest's archive shipper as a process of its own, for kill -9 tests.

``python -m tests.functional.archive_shipper_main CONFIG.json`` points CONF
at the test's private engine (mount point, state dir, address, port; the
``datastore`` manager, PostgreSQL unless told), then ships the stream of
its archive strategy into a local store until killed.
"""
import json
import sys

from trove.backup.stores import local
from trove.conf import CONF
from trove.guestagent import archive, engines
from trove.guestagent.archive import shipper


def main(path):
    with open(path) as f:
        conf = json.load(f)
    manager = conf.get('datastore', 'postgresql')
    for key in ('mount_point', 'guest_state_dir', 'host_address'):
        CONF.set_override(key, conf[key])
    CONF.set_override('port', conf['port'], group=manager)
    strategy = archive.get_strategy(manager, engines.load_engine(manager))
    if conf.get('start_from'):
        strategy.start_from(conf['start_from'])
    ship = shipper.Shipper(strategy, local.LocalStore(conf['store']), conf['container'],
                           conf['prefix'], conf['spool'], conf['state'])
    ship.run()


if __name__ == '__main__':
    main(sys.argv[1])
