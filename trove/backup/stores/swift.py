"""Swift object store (python-swiftclient), with segmented uploads.

A backup is uploaded as segments of ``[backup] swift_segment_size`` bytes
into ``<container>_segments`` (each streamed with chunked transfer encoding,
its MD5 checked against the ETag Swift returns), then published by writing
an SLO manifest ``<container>/<object>`` that carries the metadata as
``X-Object-Meta-*`` headers.  Until the manifest exists there is no object,
and a failed upload deletes the segments it wrote.  The location recorded
is the full URL ``<storage_url>/<container>/<object>``.

``[backup] swift_url`` may name the account of the instance owner with
``%(tenant_id)s`` (``http://host:8080/v1/AUTH_%(tenant_id)s``): objects then
go to the owner's account, where the owner's own clients (python-troveclient's
``log tail``, Horizon) find them, and the configured user must hold Swift's
reseller admin role.  Operations on a location use the account the location
names.  Without ``swift_auth_url`` the store talks to a Swift that has no auth
middleware (a loopback all-in-one behind the noauth API).
"""
import hashlib
import json
import urllib.parse

from oslo_log import log as logging
from swiftclient import client as swift_client
from swiftclient import exceptions as swift_exc

from trove.backup.stores import base
from trove.common import exception
from trove.conf import CONF

LOG = logging.getLogger(__name__)
META_PREFIX = 'x-object-meta-'
TENANT = '%(tenant_id)s'
# A Swift without auth middleware ignores tokens; swiftclient needs one so it
# does not try to authenticate.
NOAUTH_TOKEN = 'noauth'


def _connect(storage_url=None):
    conf = CONF.backup
    url = storage_url or conf.swift_url or None
    token = None if conf.swift_auth_url else NOAUTH_TOKEN
    return swift_client.Connection(
        authurl=conf.swift_auth_url or None, user=conf.swift_user or None,
        key=conf.swift_key or None, auth_version='3',
        os_options={'project_name': conf.swift_project or None,
                    'user_domain_name': 'Default', 'project_domain_name': 'Default'},
        preauthurl=url, preauthtoken=token, retries=3)


def _per_tenant():
    return TENANT in CONF.backup.swift_url


def account_url(tenant_id):
    """Storage URL of ``tenant_id``'s account (``swift_url`` naming the tenant)."""
    if not tenant_id or '/' in tenant_id:
        raise exception.BadRequest(detail='the Swift store needs the project of the '
                                          'instance (swift_url names %s)' % TENANT)
    return CONF.backup.swift_url.replace(TENANT, tenant_id)


class _Segmenter:
    """Splits a chunk stream into consecutive segments of ``size`` bytes.

    Each segment is a generator that must be consumed before the next one
    is started (the uploads are sequential).  There is always at least one
    segment, so an empty stream still makes an (empty) object.
    """

    def __init__(self, chunks, size):
        self.it, self.size, self.buf, self.done = iter(chunks), size, b'', False

    def _more(self):
        if self.buf:
            return True
        if self.done:
            return False
        for chunk in self.it:
            if chunk:
                self.buf = chunk
                return True
        self.done = True
        return False

    def _segment(self):
        left = self.size
        while left > 0 and self._more():
            head, self.buf = self.buf[:left], self.buf[left:]
            left -= len(head)
            yield head

    def __iter__(self):
        yield self._segment()
        while self._more():
            yield self._segment()


class _Counted:
    """Iterates a segment while computing its MD5 (Swift's ETag) and size."""

    def __init__(self, chunks):
        self.chunks, self.md5, self.size = chunks, hashlib.md5(), 0

    def __iter__(self):
        for chunk in self.chunks:
            self.md5.update(chunk)
            self.size += len(chunk)
            yield chunk


class SwiftStore(base.BackupStore):
    """Objects in a Swift account."""

    name = 'swift'
    # get_store passes the owning project (see account_url).
    per_tenant = True

    def __init__(self, connection=None, segment_size=None, tenant_id=None):
        # The guest writes into its owner's account (guest_info's tenant_id).
        self.tenant_id = tenant_id or CONF.tenant_id
        self._conn = connection
        self._accounts = {}
        self.segment_size = segment_size or CONF.backup.swift_segment_size

    @property
    def conn(self):
        """The connection to this store's own account (made on first use)."""
        if self._conn is None:
            self._conn = _connect(account_url(self.tenant_id) if _per_tenant() else None)
        return self._conn

    def _url(self):
        if not self.conn.url:
            self.conn.get_auth()
        return self.conn.url.rstrip('/')

    def _account(self, location):
        """(connection, path below the account) of a location URL."""
        url = urllib.parse.urlsplit(location)
        path = url.path
        if _per_tenant():
            base = urllib.parse.urlsplit(CONF.backup.swift_url.split(TENANT)[0])
            if url.netloc == base.netloc and path.startswith(base.path):
                tenant, _, rest = path[len(base.path):].partition('/')
                tenant = urllib.parse.unquote(tenant)
                if tenant == self.tenant_id and self._conn is not None:
                    return self._conn, rest
                if tenant not in self._accounts:
                    self._accounts[tenant] = _connect(account_url(tenant))
                return self._accounts[tenant], rest
        else:
            prefix = urllib.parse.urlsplit(self._url()).path.rstrip('/') + '/'
            if path.startswith(prefix):
                return self.conn, path[len(prefix):]
        raise exception.BadRequest(detail='location %s is not in this Swift account'
                                   % location)

    def _split(self, location):
        """(connection, container, object) of a location URL."""
        conn, rest = self._account(location)
        container, _, obj = rest.partition('/')
        if not container or not obj:
            raise exception.BadRequest(detail='invalid Swift location %s' % location)
        return conn, urllib.parse.unquote(container), urllib.parse.unquote(obj)

    def put_stream(self, container, object_name, chunks, metadata):
        seg_container = container + '_segments'
        self.conn.put_container(container)
        self.conn.put_container(seg_container)
        counted = base.HashingIterator(chunks)
        manifest, written = [], []
        try:
            for index, segment in enumerate(_Segmenter(counted, self.segment_size)):
                name = '%s/%08d' % (object_name, index)
                part = _Counted(segment)
                etag = self.conn.put_object(seg_container, name, contents=iter(part))
                written.append(name)
                if etag != part.md5.hexdigest():
                    raise exception.BadRequest(detail='Swift ETag mismatch on segment %s'
                                               % name)
                manifest.append({'path': '/%s/%s' % (seg_container, name),
                                 'etag': etag, 'size_bytes': part.size})
            meta = dict(metadata, checksum=counted.checksum, size=counted.size)
            headers = {'X-Object-Meta-%s' % k.replace('_', '-'): str(v)
                       for k, v in meta.items()}
            self.conn.put_object(container, object_name, contents=json.dumps(manifest),
                                 headers=headers, query_string='multipart-manifest=put')
        except BaseException:
            self._drop_segments(seg_container, written)
            raise
        location = '%s/%s/%s' % (self._url(), urllib.parse.quote(container),
                                 urllib.parse.quote(object_name))
        return base.StoredObject(location, counted.size, counted.checksum)

    def _drop_segments(self, seg_container, names):
        for name in names:
            try:
                self.conn.delete_object(seg_container, name)
            except swift_exc.ClientException as exc:
                LOG.warning('Could not remove segment %s: %s', name, exc)

    def discard_partial(self, object_prefix, container=None):
        """Segments of an upload that never got its manifest (default container)."""
        seg_container = (container or CONF.backup.swift_container) + '_segments'
        names = [item['name'] for item in self._listing(seg_container, object_prefix)]
        self._drop_segments(seg_container, names)
        return names

    def get_stream(self, location, chunk_size=base.CHUNK_SIZE):
        conn, container, obj = self._split(location)
        try:
            _headers, body = conn.get_object(container, obj, resp_chunk_size=chunk_size)
        except swift_exc.ClientException as exc:
            if exc.http_status == 404:
                raise exception.NotFound(uuid=location)
            raise
        return body

    def get_metadata(self, location):
        conn, container, obj = self._split(location)
        try:
            headers = conn.head_object(container, obj)
        except swift_exc.ClientException as exc:
            if exc.http_status == 404:
                raise exception.NotFound(uuid=location)
            raise
        meta = {k[len(META_PREFIX):].replace('-', '_'): v
                for k, v in headers.items() if k.lower().startswith(META_PREFIX)}
        if 'size' in meta:
            meta['size'] = int(meta['size'])
        return meta

    def delete(self, location):
        conn, container, obj = self._split(location)
        try:
            conn.delete_object(container, obj, query_string='multipart-manifest=delete')
        except swift_exc.ClientException as exc:
            if exc.http_status != 404:
                raise

    def _listing(self, container, prefix):
        """The objects of ``container`` under ``prefix``; none when it does not exist."""
        try:
            _headers, listing = self.conn.get_container(container, prefix=prefix,
                                                        full_listing=True)
        except swift_exc.ClientException as exc:
            if exc.http_status == 404:
                return []
            raise
        return listing

    def list_objects(self, container, prefix):
        listing = self._listing(container, prefix)
        base_url = '%s/%s' % (self._url(), urllib.parse.quote(container))
        return sorted((item['name'], '%s/%s' % (base_url, urllib.parse.quote(item['name'])))
                      for item in listing)

    def exists(self, location):
        try:
            self.get_metadata(location)
            return True
        except exception.NotFound:
            return False
