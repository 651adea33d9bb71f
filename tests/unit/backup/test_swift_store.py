"""The Swift store against an in-process HTTP fake of Swift's object API.

The fake records every request, so the tests assert exactly what goes over
the wire: containers, segment PUTs (streamed, chunked), the SLO manifest
with the metadata headers, GET/HEAD/DELETE, and injects failures.  The
behaviour against a real Swift (SLO reads, deletes, listings, per-project
accounts) is tested in tests/functional/test_swift_store.py.
"""
import hashlib
import http.server
import json
import threading
import urllib.parse

import pytest
from swiftclient import client as swift_client
from swiftclient import exceptions as swift_exc

from trove.backup.stores import base, swift
from trove.common import exception


class FakeSwift(http.server.ThreadingHTTPServer):
    """Objects in a dict; SLO manifests are resolved on GET."""

    def __init__(self):
        super().__init__(('127.0.0.1', 0), _Handler)
        self.objects, self.headers, self.requests = {}, {}, []
        self.fail_put_of = None
        self.bad_etag = False


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _body(self):
        if self.headers.get('Transfer-Encoding') == 'chunked':
            data = b''
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if not size:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get('Content-Length') or 0))

    def _reply(self, code, body=b'', headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _split(self):
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.split('/', 4)  # '', v1, AUTH_t, container, object
        return url.query, parts[3], (parts[4] if len(parts) > 4 else None)

    def do_PUT(self):
        query, container, obj = self._split()
        body = self._body()
        srv = self.server
        srv.requests.append(('PUT', self.path, body if query else len(body),
                             {k.lower(): v for k, v in self.headers.items()
                              if k.lower().startswith('x-object-meta-')}))
        if obj is None:
            return self._reply(201)
        if srv.fail_put_of and srv.fail_put_of in obj:
            return self._reply(503)
        key = '%s/%s' % (container, obj)
        if query == 'multipart-manifest=put':
            srv.objects[key] = ('manifest', json.loads(body))
        else:
            srv.objects[key] = ('data', body)
        srv.headers[key] = {k: v for k, v in self.headers.items()
                            if k.lower().startswith('x-object-meta-')}
        etag = 'bogus' if srv.bad_etag else hashlib.md5(body).hexdigest()
        self._reply(201, headers={'Etag': etag})

    def _content(self, key):
        kind, value = self.server.objects[key]
        if kind == 'data':
            return value
        return b''.join(self.server.objects[e['path'].lstrip('/')][1] for e in value)

    def do_GET(self):
        _query, container, obj = self._split()
        self.server.requests.append(('GET', self.path, None, {}))
        key = '%s/%s' % (container, obj)
        if key not in self.server.objects:
            return self._reply(404)
        self._reply(200, self._content(key), self.server.headers[key])

    def do_HEAD(self):
        _query, container, obj = self._split()
        self.server.requests.append(('HEAD', self.path, None, {}))
        key = '%s/%s' % (container, obj)
        if key not in self.server.objects:
            self.send_response(404)
            self.send_header('Content-Length', '0')
            return self.end_headers()
        self.send_response(200)
        for k, v in self.server.headers[key].items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(self._content(key))))
        self.end_headers()

    def do_DELETE(self):
        query, container, obj = self._split()
        self.server.requests.append(('DELETE', self.path, None, {}))
        key = '%s/%s' % (container, obj)
        if key not in self.server.objects:
            return self._reply(404)
        kind, value = self.server.objects.pop(key)
        if kind == 'manifest' and query == 'multipart-manifest=delete':
            for entry in value:
                self.server.objects.pop(entry['path'].lstrip('/'), None)
        self._reply(204)


@pytest.fixture
def fake():
    server = FakeSwift()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def store(fake):
    url = 'http://127.0.0.1:%d/v1/AUTH_t' % fake.server_address[1]
    conn = swift_client.Connection(preauthurl=url, preauthtoken='tok', retries=0)
    return swift.SwiftStore(connection=conn, segment_size=10)


def test_segmented_upload_exact_requests(store, fake):
    payload = b'0123456789abcdefghijklmnopqrstuvwxy'  # 35 bytes -> 4 segments
    obj = store.put_stream('bk', 'b1.xbstream.zst', iter([payload[:7], payload[7:]]),
                           {'parent_id': 'p1', 'to_lsn': 99})
    assert obj.size == 35 and obj.checksum == hashlib.sha256(payload).hexdigest()
    assert obj.location == store._url() + '/bk/b1.xbstream.zst'
    puts = [(r[0], r[1], r[2]) for r in fake.requests]
    manifest = [{'path': '/bk_segments/b1.xbstream.zst/%08d' % i,
                 'etag': hashlib.md5(payload[i * 10:i * 10 + 10]).hexdigest(),
                 'size_bytes': len(payload[i * 10:i * 10 + 10])} for i in range(4)]
    assert puts[:6] == [
        ('PUT', '/v1/AUTH_t/bk', 0),
        ('PUT', '/v1/AUTH_t/bk_segments', 0),
        ('PUT', '/v1/AUTH_t/bk_segments/b1.xbstream.zst/00000000', 10),
        ('PUT', '/v1/AUTH_t/bk_segments/b1.xbstream.zst/00000001', 10),
        ('PUT', '/v1/AUTH_t/bk_segments/b1.xbstream.zst/00000002', 10),
        ('PUT', '/v1/AUTH_t/bk_segments/b1.xbstream.zst/00000003', 5),
    ]
    method, path, body, headers = fake.requests[6]
    assert (method, path) == ('PUT', '/v1/AUTH_t/bk/b1.xbstream.zst?multipart-manifest=put')
    assert json.loads(body) == manifest
    assert headers == {'x-object-meta-parent-id': 'p1', 'x-object-meta-to-lsn': '99',
                       'x-object-meta-size': '35',
                       'x-object-meta-checksum': obj.checksum}
    assert len(fake.requests) == 7

    assert b''.join(store.get_stream(obj.location, chunk_size=4)) == payload
    assert store.get_metadata(obj.location) == {'parent_id': 'p1', 'to_lsn': '99',
                                                'size': 35, 'checksum': obj.checksum}
    assert base.verify(store, obj.location, obj.checksum) == 35
    store.delete(obj.location)
    assert fake.requests[-1][:2] == (
        'DELETE', '/v1/AUTH_t/bk/b1.xbstream.zst?multipart-manifest=delete')
    assert fake.objects == {}
    assert not store.exists(obj.location)
    store.delete(obj.location)  # 404 is fine


def test_small_and_empty_streams_make_one_segment(store, fake):
    obj = store.put_stream('bk', 'empty', iter([]), {})
    assert obj.size == 0
    paths = [r[1] for r in fake.requests if r[0] == 'PUT']
    assert paths[2:] == ['/v1/AUTH_t/bk_segments/empty/00000000',
                         '/v1/AUTH_t/bk/empty?multipart-manifest=put']


def test_failed_upload_removes_segments_and_publishes_nothing(store, fake):
    fake.fail_put_of = '00000002'
    with pytest.raises(swift_exc.ClientException):
        store.put_stream('bk', 'b2', iter([b'x' * 35]), {})
    assert fake.objects == {}
    deletes = [r[1] for r in fake.requests if r[0] == 'DELETE']
    assert deletes == ['/v1/AUTH_t/bk_segments/b2/00000000',
                       '/v1/AUTH_t/bk_segments/b2/00000001']


def test_interrupted_producer_publishes_nothing(store, fake):
    def chunks():
        yield b'y' * 15
        raise RuntimeError('mariabackup died')

    with pytest.raises(RuntimeError):
        store.put_stream('bk', 'b3', chunks(), {})
    assert fake.objects == {}
    assert not any('multipart-manifest=put' in r[1] for r in fake.requests)


def test_etag_mismatch_fails_upload(store, fake):
    fake.bad_etag = True
    with pytest.raises(exception.BadRequest, match='ETag mismatch'):
        store.put_stream('bk', 'b4', iter([b'z' * 5]), {})
    assert fake.objects == {}


@pytest.fixture
def per_project(fake):
    """``swift_url`` naming the project; no swift_auth_url (noauth token)."""
    from trove.conf import CONF
    CONF.set_override('swift_url', 'http://127.0.0.1:%d/v1/AUTH_%%(tenant_id)s'
                      % fake.server_address[1], group='backup')
    try:
        yield fake
    finally:
        CONF.clear_override('swift_url', group='backup')


def test_per_project_accounts_on_the_wire(per_project):
    fake = per_project
    obj = swift.SwiftStore(tenant_id='p1', segment_size=10).put_stream('logs', 'x', [b'a'], {})
    assert obj.location.endswith('/v1/AUTH_p1/logs/x')
    assert {r[1].split('/')[2] for r in fake.requests} == {'AUTH_p1'}
    # A store without a project reaches the object through its location.
    control = swift.SwiftStore()
    assert control.get_metadata(obj.location)['size'] == 1
    assert fake.requests[-1][:2] == ('HEAD', '/v1/AUTH_p1/logs/x')
    with pytest.raises(exception.BadRequest, match='project'):
        control.put_stream('logs', 'y', [b'y'], {})
    with pytest.raises(exception.BadRequest, match='project'):
        swift.account_url('a/b')
