"""Spare mode: bring the engine up before anybody asked for it.

A spare agent (``spare = true`` in guest_info.conf, no ``guest_id``) installs,
initialises, configures and starts its engine exactly as ``prepare`` would
for a request without databases or users, then writes ``spare.ready`` in its
state directory and waits.  The compute driver claims it by rewriting
guest_info.conf with an instance's identity (and RPC key) and sending
SIGHUP; the agent re-reads its config files and goes on as that instance's
agent, so ``prepare`` only has to secure the engine and create databases
and users.

A spare never talks to the broker before it is claimed: it has no key to
seal messages with, and nobody to report to.
"""
import os
import signal
import sys
import threading

from oslo_log import log as logging

from trove.common import template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent import engines

LOG = logging.getLogger(__name__)
READY_FILE = 'spare.ready'


def ready_marker():
    return os.path.join(CONF.guest_state_dir, READY_FILE)


class Spare:
    """The engine of a spare and the configuration it was started with."""

    def __init__(self, engine=None):
        self.engine = engine or engines.load_engine(CONF.datastore_manager)
        self.config_contents = template.render_config(CONF.datastore_manager,
                                                      CONF.spare_flavor_ram)
        self.claimed = threading.Event()

    def bring_up(self):
        """Start the engine as a request-less prepare would, then mark ready."""
        self.engine.warm_up()
        self.engine.prepare(PrepareRequest(memory_mb=CONF.spare_flavor_ram,
                                           config_contents=self.config_contents))
        os.makedirs(CONF.guest_state_dir, exist_ok=True)
        with open(ready_marker(), 'w') as f:
            f.write('%d\n' % os.getpid())
        LOG.info('Spare %s engine is up; waiting to be claimed', CONF.datastore_manager)

    def needs_restart(self, req):
        """Whether a prepare request configures the engine otherwise than the spare."""
        return bool(req.overrides) or (
            req.config_contents is not None and req.config_contents != self.config_contents)


def run_until_claimed():
    """Bring the spare up and block until SIGHUP hands it an identity.

    Returns the :class:`Spare`; exits the process when the engine cannot be
    brought up (the driver replaces a spare whose agent is gone).
    """
    spare = Spare()
    # Installed before the ready marker exists, so a claim (which only
    # happens to ready spares) never meets SIGHUP's default action.
    signal.signal(signal.SIGHUP, lambda _signum, _frame: spare.claimed.set())
    try:
        spare.bring_up()
    except Exception:
        LOG.exception('Spare engine could not be brought up')
        try:
            spare.engine.stop()
        finally:
            sys.exit(1)
    while True:
        if not spare.claimed.wait(1):
            continue
        spare.claimed.clear()
        CONF.reload_config_files()
        if CONF.guest_id:
            break
        LOG.warning('SIGHUP without an identity in guest_info.conf; still a spare')
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    os.remove(ready_marker())
    LOG.info('Spare claimed as instance %s', CONF.guest_id)
    return spare
