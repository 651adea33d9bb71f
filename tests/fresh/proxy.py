"""A small HTTP proxy that lets a test root without a network reach the
package registries, and nothing else.

Two halves joined by a Unix socket, because a pathname socket crosses
network namespaces:

    python3 proxy.py serve PATH HOST[,HOST...]   # on the host's network
    python3 proxy.py relay PORT PATH             # inside the test namespace

``serve`` accepts proxy requests on the Unix socket PATH: ``CONNECT host:443``
(pip's HTTPS) and plain ``GET http://host/...`` (apt), each only for the
listed hosts; everything else gets 403.  ``relay`` listens on
127.0.0.1:PORT and passes every connection on to PATH unchanged.  Each
connection has its own thread; both halves run until they are killed.
Standard library only: it runs with the host's python3 and needs no venv.
"""
import select
import socket
import sys
import threading
import time

IDLE = 300          # seconds a tunnel may stay silent
HEAD_LIMIT = 65536  # bytes of request head we accept


def pump(a, b):
    """Copy bytes both ways until one side closes or IDLE passes."""
    socks = [a, b]
    try:
        while True:
            ready, _, _ = select.select(socks, [], [], IDLE)
            if not ready:
                return
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()


def read_head(conn):
    buf = b''
    while b'\r\n\r\n' not in buf:
        data = conn.recv(4096)
        if not data or len(buf) > HEAD_LIMIT:
            return None, b''
        buf += data
    head, rest = buf.split(b'\r\n\r\n', 1)
    return head.decode('latin-1').split('\r\n'), rest


def target(method, url):
    """(host, port, path) a request asks for; path None for CONNECT."""
    if method == 'CONNECT':
        host, _, port = url.rpartition(':')
        return host, int(port), None
    if not url.startswith('http://'):
        raise ValueError(url)
    hostport, _, path = url[len('http://'):].partition('/')
    host, _, port = hostport.partition(':')
    return host, int(port or 80), '/' + path


def handle(conn, allowed, log):
    try:
        lines, rest = read_head(conn)
        if not lines:
            conn.close()
            return
        method, url, version = lines[0].split(' ', 2)
        host, port, path = target(method, url)
        if host not in allowed or port not in (80, 443):
            log('DENY %s %s' % (method, url))
            conn.sendall(b'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n'
                         b'Connection: close\r\n\r\n')
            conn.close()
            return
        upstream = socket.create_connection((host, port), timeout=30)
        upstream.settimeout(None)
        log('%s %s' % (method, url))
        if path is None:
            conn.sendall(b'HTTP/1.1 200 Connection established\r\n\r\n')
        else:
            # One request per connection: the client asked in absolute form,
            # the origin gets origin form and closes after its answer.
            keep = [h for h in lines[1:] if h.split(':', 1)[0].lower()
                    not in ('connection', 'proxy-connection', 'keep-alive')]
            head = ['%s %s %s' % (method, path, version)] + keep + ['Connection: close']
            upstream.sendall(('\r\n'.join(head) + '\r\n\r\n').encode('latin-1') + rest)
        pump(conn, upstream)
    except (OSError, ValueError) as exc:
        log('ERROR %s' % exc)
        conn.close()


def serve(path, hosts):
    allowed = set(hosts.split(','))
    lock = threading.Lock()

    def log(msg):
        with lock:
            print('%s %s' % (time.strftime('%H:%M:%S'), msg), flush=True)

    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(64)
    log('serving on %s for %s' % (path, ', '.join(sorted(allowed))))
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn, allowed, log), daemon=True).start()


def relay(port, path):
    srv = socket.create_server(('127.0.0.1', int(port)))
    while True:
        conn, _ = srv.accept()
        try:
            up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            up.connect(path)
        except OSError:
            conn.close()
            continue
        threading.Thread(target=pump, args=(conn, up), daemon=True).start()


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'serve':
        serve(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == 'relay':
        relay(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
