"""The archive part of a guest agent as a process of its own, for kill -9 tests.

``python -m tests.functional.archive_agent_main CONFIG.json`` points CONF
at the test's private engine and local backup store, then does what the
agent does: resumes the archive a previous agent recorded in the state dir
(``resume_archive`` at agent start), or else runs ``start_archive`` as the
RPC would with the config's container, prefix and ``start_backup``; then it
ships until killed.
"""
import json
import sys
import threading

from trove.conf import CONF
from trove.guestagent import archive_rpc, engines


class Agent(archive_rpc.ArchiveEndpoints):
    def __init__(self, engine):
        self.engine = engine


def main(path):
    with open(path) as f:
        conf = json.load(f)
    manager = conf['datastore']
    for key in ('mount_point', 'guest_state_dir', 'host_address'):
        CONF.set_override(key, conf[key])
    CONF.set_override('datastore_manager', manager)
    CONF.set_override('port', conf['port'], group=manager)
    CONF.set_override('local_store_path', conf['store'], group='backup')
    agent = Agent(engines.load_engine(manager))
    agent.resume_archive()
    if agent.archive_shipper is None:
        agent.start_archive(None, container=conf['container'], prefix=conf['prefix'],
                            storage_driver='local', start_backup=conf.get('start_backup'))
    threading.Event().wait()


if __name__ == '__main__':
    main(sys.argv[1])
