"""Swift object store (python-swiftclient), with segmented uploads.

A backup is uploaded as segments of ``[backup] swift_segment_size`` bytes
into ``<container>_segments`` (each streamed with chunked transfer encoding,
its MD5 checked against the ETag Swift returns), then published by writing
an SLO manifest ``<container>/<object>`` that carries the metadata as
``X-Object-Meta-*`` headers.  Until the manifest exists there is no object,
and a failed upload deletes the segments it wrote.  The location recorded
is the full URL ``<storage_url>/<container>/<object>``.
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


def _connect():
    conf = CONF.backup
    return swift_client.Connection(
        authurl=conf.swift_auth_url or None, user=conf.swift_user or None,
        key=conf.swift_key or None, auth_version='3',
        os_options={'project_name': conf.swift_project or None,
                    'user_domain_name': 'Default', 'project_domain_name': 'Default'},
        preauthurl=conf.swift_url or None, retries=3)


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

    def __init__(self, connection=None, segment_size=None):
        self.conn = connection or _connect()
        self.segment_size = segment_size or CONF.backup.swift_segment_size

    def _url(self):
        if not self.conn.url:
            self.conn.get_auth()
        return self.conn.url.rstrip('/')

    def _split(self, location):
        """(container, object) of a location URL of this account."""
        path = urllib.parse.urlsplit(location).path
        prefix = urllib.parse.urlsplit(self._url()).path.rstrip('/') + '/'
        if not path.startswith(prefix):
            raise exception.BadRequest(detail='location %s is not in this Swift account'
                                       % location)
        container, _, obj = path[len(prefix):].partition('/')
        if not container or not obj:
            raise exception.BadRequest(detail='invalid Swift location %s' % location)
        return urllib.parse.unquote(container), urllib.parse.unquote(obj)

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
        container, obj = self._split(location)
        try:
            _headers, body = self.conn.get_object(container, obj,
                                                  resp_chunk_size=chunk_size)
        except swift_exc.ClientException as exc:
            if exc.http_status == 404:
                raise exception.NotFound(uuid=location)
            raise
        return body

    def get_metadata(self, location):
        container, obj = self._split(location)
        try:
            headers = self.conn.head_object(container, obj)
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
        container, obj = self._split(location)
        try:
            self.conn.delete_object(container, obj, query_string='multipart-manifest=delete')
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
