"""trove-api: serves the paste-built REST API over HTTP.

A stdlib WSGI server is enough: requests are short (the API only reads the
database and casts), so a bounded thread pool of ``api_workers`` threads
serves them without eventlet.
"""
import concurrent.futures
import os
import signal
import socket
import socketserver
import sys
import threading
from wsgiref import simple_server

from oslo_config import cfg
from oslo_log import log as logging

from trove.conf import CONF

LOG = logging.getLogger(__name__)

_REPO_ETC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'etc', 'trove')


def find_paste_config():
    """Path of CONF.api_paste_config: absolute, in the config dirs, or in etc/trove."""
    name = CONF.api_paste_config
    if os.path.isabs(name) and os.path.exists(name):
        return name
    try:
        found = CONF.find_file(name)
    except cfg.NotInitializedError:
        # Only before CONF() has parsed a command line (tests, tools).
        found = None
    if found:
        return os.path.abspath(found)
    fallback = os.path.join(_REPO_ETC, os.path.basename(name))
    if os.path.exists(fallback):
        return fallback
    raise SystemExit('Cannot find paste config %s' % name)


class _QuietHandler(simple_server.WSGIRequestHandler):
    """Request lines go to oslo.log instead of stderr."""

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        LOG.info('%s %s', self.address_string(), format % args)


class PooledWSGIServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    """WSGIServer handing each connection to a pool of ``workers`` threads."""

    daemon_threads = True

    def __init__(self, address, handler, workers, backlog=4096):
        if ':' in address[0]:
            self.address_family = socket.AF_INET6
        # socketserver listens with a backlog of 5: a burst of clients
        # overflows it and the kernel resets or delays (SYN retry after 1 s,
        # 3 s, 7 s) the rest, although the pool would queue them all.
        self.request_queue_size = backlog
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix='api')
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        self.pool.submit(self.process_request_thread, request, client_address)

    def server_close(self):
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)


def make_server(app, host, port, workers, backlog=4096):
    """A ready-to-serve server for ``app`` on host:port."""
    server = PooledWSGIServer((host, port), _QuietHandler, workers, backlog)
    server.set_app(app)
    return server


def main():
    """Entry point of trove-api."""
    logging.register_options(CONF)
    CONF(sys.argv[1:], project='trove')
    from trove.common import service
    service.setup_logging('trove', 'trove-api')
    from trove.api import app as api_app
    application = api_app.load_app(find_paste_config())
    server = make_server(application, CONF.bind_host, CONF.bind_port, CONF.api_workers,
                         CONF.backlog)
    stop = threading.Event()

    def _signal(signum, _frame):
        LOG.info('Signal %d received, stopping trove-api', signum)
        stop.set()

    signal.signal(signal.SIGTERM, _signal)
    signal.signal(signal.SIGINT, _signal)
    # serve_forever runs on its own thread: shutdown() must come from another
    # thread than the serving one, and signals are delivered to this one.
    thread = threading.Thread(target=server.serve_forever, name='api-server', daemon=True)
    thread.start()
    LOG.info('trove-api listening on %s:%s (pipeline %s)',
             CONF.bind_host, CONF.bind_port, CONF.api_pipeline)
    while not stop.wait(1):
        pass
    server.shutdown()
    server.server_close()
    thread.join(5)
    from trove.common import rpc
    rpc.cleanup()
    LOG.info('trove-api stopped')


if __name__ == '__main__':
    main()
