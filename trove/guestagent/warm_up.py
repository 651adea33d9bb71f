"""The engine's request-independent setup, run on a thread at agent boot.

Installing the binaries and pre-initialising the system tables do not depend
on the prepare request.  The agent starts them as soon as its configuration
is read and its engine loaded, before it imports the RPC side (the manager,
message sealing, archiving) and connects to the broker, so that work and
the rest of the agent's start-up overlap.  Prepare waits for a warm-up that
is still running.

Imports only what the engine needs: this runs before the heavy part of the
agent is loaded.
"""
import os
import threading

from oslo_log import log as logging

from trove.conf import CONF

LOG = logging.getLogger(__name__)


def prepared_marker():
    """The file whose presence says this guest's prepare finished."""
    return os.path.join(CONF.guest_state_dir, 'prepare.done')


class WarmUp:
    """``start(engine)`` runs ``engine.warm_up()`` on a thread; ``wait()`` for it."""

    def __init__(self):
        # Set while no warm-up runs.
        self._idle = threading.Event()
        self._idle.set()

    def start(self, engine):
        """Begin the warm-up unless one runs already; returns self."""
        if not self._idle.is_set():
            return self
        self._idle.clear()
        threading.Thread(target=self._run, args=(engine,), name='warm-up',
                         daemon=True).start()
        return self

    def _run(self, engine):
        try:
            engine.warm_up()
        except Exception:
            LOG.warning('Engine warm-up failed; prepare does the work', exc_info=True)
        finally:
            self._idle.set()

    def wait(self, timeout):
        """Block until no warm-up runs (or ``timeout`` seconds)."""
        self._idle.wait(timeout)


def start_early(engine):
    """At agent boot: a started WarmUp for an unprepared guest, else an idle one."""
    warm = WarmUp()
    if not os.path.exists(prepared_marker()):
        warm.start(engine)
    return warm
