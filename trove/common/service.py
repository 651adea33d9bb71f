"""Run an RPC server (plus periodic jobs) until SIGTERM/SIGINT.

The threading executor is used throughout: each incoming message is
dispatched on a worker thread, and periodic jobs run on their own threads.
"""
import signal
import sys
import threading

from oslo_log import log as logging

from trove.common import rpc
from trove.conf import CONF

LOG = logging.getLogger(__name__)


def prepare_service(argv, project='trove', default_config_files=None, binary=None):
    """Parse the command line and config files and set up logging.

    ``binary`` (e.g. ``trove-conductor``) names the log file in ``log_dir``.
    """
    CONF(argv[1:], project=project, default_config_files=default_config_files)
    setup_logging(project, binary)


def setup_logging(project, binary):
    """oslo.log setup with the log file named after ``binary``.

    With ``log_dir`` and no ``log_file`` oslo.log names the file after the
    outermost stack frame, which under ``python -m trove.cmd.X`` is
    ``<frozen runpy>`` for every daemon; naming it here keeps them apart.
    """
    if binary and CONF.log_dir and not CONF.log_file:
        CONF.set_default('log_file', '%s.log' % binary)
    logging.setup(CONF, project)


class Periodic(threading.Thread):
    """Calls ``func`` every ``interval`` seconds until stopped; errors are logged."""

    def __init__(self, func, interval, name, initial_delay=None):
        super().__init__(name=name, daemon=True)
        self.func = func
        self.interval = interval
        self.initial_delay = interval if initial_delay is None else initial_delay
        self.stopped = threading.Event()

    def run(self):
        if self.stopped.wait(self.initial_delay):
            return
        while True:
            try:
                self.func()
            except Exception:
                LOG.exception('Periodic job %s failed', self.name)
            if self.stopped.wait(self.interval):
                return

    def stop(self):
        self.stopped.set()


def serve(topic, server, endpoints, periodics=(), on_start=None, serializer=None):
    """Serve ``endpoints`` on ``topic`` until a termination signal arrives.

    ``serializer`` (e.g. from trove.common.rpc_crypto) handles the arguments
    and return values under the context serializer.
    """
    stop = threading.Event()

    def _signal(signum, _frame):
        LOG.info('Signal %d received, stopping %s', signum, topic)
        stop.set()

    signal.signal(signal.SIGTERM, _signal)
    signal.signal(signal.SIGINT, _signal)
    rpc_server = rpc.get_server(topic, server, endpoints, serializer=serializer)
    rpc_server.start()
    LOG.info('Serving RPC topic %s as server %s', topic, server)
    for job in periodics:
        job.start()
    if on_start is not None:
        threading.Thread(target=on_start, name='on-start', daemon=True).start()
    while not stop.wait(1):
        pass
    for job in periodics:
        job.stop()
    rpc_server.stop()
    rpc_server.wait()
    for job in periodics:
        # Let a job in progress (e.g. a spare being created) finish its step.
        job.join(timeout=30)
    rpc.cleanup()
    LOG.info('%s stopped', topic)
    sys.exit(0)
