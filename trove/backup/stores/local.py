"""A directory object store: ``<local_store_path>/<container>/<object>``.

The default store of the local compute driver, whose guests share the host's
filesystem.  Objects are written under a temporary name and renamed once
complete, so a crash mid-backup never leaves something that looks like a
backup; metadata lives in ``<object>.meta.json``.  The location recorded in
the database is the object's absolute path.
"""
import json
import os
import uuid

from trove.backup.stores import base
from trove.common import exception
from trove.conf import CONF

META_SUFFIX = '.meta.json'


def public_location(location, root=None):
    """What the API shows of a local object: ``local:///<container>/<object>``.

    The recorded location is a path on the controller; tenants see where
    the object is in the store (as upstream shows a Swift URL), never the
    host's directories.
    """
    root = os.path.abspath(root or CONF.backup.local_store_path)
    path = os.path.abspath(location)
    if os.path.commonpath([path, root]) != root or path == root:
        return None
    return 'local:///%s' % os.path.relpath(path, root)


def _safe_name(name):
    if not name or '/' in name or name in ('.', '..') or name.startswith('.'):
        raise exception.BadRequest(detail='invalid backup object name %r' % name)
    return name


class LocalStore(base.BackupStore):
    """Objects are files below ``root``."""

    name = 'local'

    def __init__(self, root=None):
        self.root = os.path.abspath(root or CONF.backup.local_store_path)

    def _path(self, location):
        """The file of ``location``, refusing anything outside the root."""
        path = os.path.abspath(location)
        if os.path.commonpath([path, self.root]) != self.root or path == self.root:
            raise exception.BadRequest(detail='backup location %s is outside the '
                                              'backup store' % location)
        return path

    def put_stream(self, container, object_name, chunks, metadata):
        # Names may have '/'-separated parts (guest logs: <instance>/<log>/...),
        # stored as subdirectories as Swift pseudo-folders would list them.
        *parents, leaf = str(object_name).split('/')
        directory = os.path.join(self.root, _safe_name(container),
                                 *[_safe_name(p) for p in parents])
        os.makedirs(directory, mode=0o700, exist_ok=True)
        final = os.path.join(directory, _safe_name(leaf))
        tmp = os.path.join(directory, '.%s.%s.part' % (leaf, uuid.uuid4().hex))
        counted = base.HashingIterator(chunks)
        try:
            with open(tmp, 'wb') as f:
                for chunk in counted:
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            meta = dict(metadata, checksum=counted.checksum, size=counted.size)
            _write_json(final + META_SUFFIX, meta)
            # The rename is what publishes the backup.
            os.replace(tmp, final)
        except BaseException:
            for leftover in (tmp, final + META_SUFFIX):
                _unlink(leftover)
            raise
        return base.StoredObject(final, counted.size, counted.checksum)

    def get_stream(self, location, chunk_size=base.CHUNK_SIZE):
        path = self._path(location)
        try:
            f = open(path, 'rb')
        except FileNotFoundError:
            raise exception.NotFound(uuid=location)
        return _read_chunks(f, chunk_size)

    def get_metadata(self, location):
        try:
            with open(self._path(location) + META_SUFFIX) as f:
                return json.load(f)
        except FileNotFoundError:
            raise exception.NotFound(uuid=location)

    def delete(self, location):
        path = self._path(location)
        _unlink(path)
        _unlink(path + META_SUFFIX)
        self._prune(os.path.dirname(path))

    def _prune(self, directory):
        """Remove subdirectories a nested name left empty; containers stay."""
        while os.path.dirname(directory) != self.root and directory.startswith(self.root):
            try:
                os.rmdir(directory)
            except OSError:  # not empty (or already gone): stop here
                return
            directory = os.path.dirname(directory)

    def discard_partial(self, object_prefix):
        removed = []
        _safe_name(object_prefix)
        for container in os.listdir(self.root) if os.path.isdir(self.root) else []:
            directory = os.path.join(self.root, container)
            if not os.path.isdir(directory):
                continue
            for name in os.listdir(directory):
                if name.startswith('.%s' % object_prefix) and name.endswith('.part'):
                    _unlink(os.path.join(directory, name))
                    removed.append(os.path.join(directory, name))
        return removed

    def exists(self, location):
        return os.path.isfile(self._path(location))

    def list_objects(self, container, prefix):
        top = os.path.join(self.root, _safe_name(container))
        found = []
        for root, dirs, names in os.walk(top):
            dirs[:] = [d for d in dirs if not d.startswith('.')]
            for name in names:
                if name.startswith('.') or name.endswith(META_SUFFIX) or \
                        name.endswith('.tmp'):
                    continue  # uploads in progress and metadata documents
                path = os.path.join(root, name)
                object_name = os.path.relpath(path, top).replace(os.sep, '/')
                if object_name.startswith(prefix):
                    found.append((object_name, path))
        return sorted(found)


def _read_chunks(f, chunk_size):
    with f:
        while True:
            chunk = f.read(chunk_size)
            if not chunk:
                return
            yield chunk


def _write_json(path, data):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, sort_keys=True)
    os.replace(tmp, path)


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
