"""The local directory object store: round trip, atomicity, confinement."""
import hashlib
import os

import pytest

from trove.backup import stores
from trove.backup.stores import base, local
from trove.common import exception


@pytest.fixture
def store(tmp_path):
    return local.LocalStore(str(tmp_path / 'store'))


def _files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, fs in os.walk(root) for f in fs)


def test_put_get_metadata_delete(store):
    data = [b'abc' * 1000, b'', b'xyz']
    obj = store.put_stream('c1', 'b1.xbstream.zst', iter(data), {'parent_id': 'p'})
    payload = b''.join(data)
    assert obj.size == len(payload)
    assert obj.checksum == hashlib.sha256(payload).hexdigest()
    assert obj.location == os.path.join(store.root, 'c1', 'b1.xbstream.zst')
    assert store.exists(obj.location)
    assert b''.join(store.get_stream(obj.location, chunk_size=7)) == payload
    assert store.get_metadata(obj.location) == {'parent_id': 'p', 'size': len(payload),
                                                'checksum': obj.checksum}
    assert base.verify(store, obj.location, obj.checksum) == len(payload)
    store.delete(obj.location)
    assert not store.exists(obj.location)
    assert _files(store.root) == []
    store.delete(obj.location)  # absent: not an error
    with pytest.raises(exception.NotFound):
        list(store.get_stream(obj.location))


def test_interrupted_stream_leaves_nothing(store):
    def chunks():
        yield b'partial data'
        raise RuntimeError('producer died')

    with pytest.raises(RuntimeError):
        store.put_stream('c1', 'b2.xbstream.zst', chunks(), {})
    assert _files(store.root) == []
    assert not store.exists(os.path.join(store.root, 'c1', 'b2.xbstream.zst'))


def test_metadata_completed_at_end_of_stream(store):
    meta = {}

    def chunks():
        yield b'data'
        meta['to_lsn'] = 42  # what a tool reports when it finishes

    obj = store.put_stream('c1', 'b3', chunks(), meta)
    assert store.get_metadata(obj.location)['to_lsn'] == 42


def test_checksum_mismatch_detected(store):
    obj = store.put_stream('c1', 'b4', iter([b'0123456789']), {})
    with open(obj.location, 'r+b') as f:
        f.seek(3)
        f.write(b'X')
    with pytest.raises(base.ChecksumMismatch, match='checksum mismatch'):
        base.verify(store, obj.location, obj.checksum)


@pytest.mark.parametrize('location', ['/etc/passwd', '../x'])
def test_locations_outside_the_store_refused(store, location):
    with pytest.raises(exception.BadRequest):
        store.delete(location)


@pytest.mark.parametrize('name', ['', '../evil', 'a/../b', 'a//b', '/abs', 'a/', '.hidden'])
def test_bad_object_names_refused(store, name):
    with pytest.raises(exception.BadRequest):
        store.put_stream('c1', name, iter([b'x']), {})


def test_nested_names_are_subdirectories_pruned_on_delete(store):
    obj = store.put_stream('logs', 'i1/mariadb-general/log-1', iter([b'abc']), {})
    assert obj.location == os.path.join(store.root, 'logs', 'i1', 'mariadb-general', 'log-1')
    assert store.get_metadata(obj.location)['size'] == 3
    store.delete(obj.location)
    # The emptied pseudo-folders go; the container stays.
    assert os.listdir(os.path.join(store.root, 'logs')) == []


def test_store_loaded_by_entry_point(tmp_path):
    from trove.conf import CONF
    CONF.set_override('local_store_path', str(tmp_path), group='backup')
    try:
        store = stores.get_store('local')
        assert isinstance(store, local.LocalStore) and store.root == str(tmp_path)
        with pytest.raises(exception.BadRequest):
            stores.get_store('nope')
    finally:
        CONF.clear_override('local_store_path', group='backup')


def test_list_objects_by_prefix(store):
    for name in ('pitr/i1/k1/0000000000000000', 'pitr/i1/k1/0000000000000010',
                 'pitr/i2/k1/0000000000000000', 'b1.tar.gz'):
        store.put_stream('c1', name, [b'x'], {})
    listed = store.list_objects('c1', 'pitr/i1/')
    assert [n for n, _ in listed] == ['pitr/i1/k1/0000000000000000',
                                      'pitr/i1/k1/0000000000000010']
    assert all(store.exists(loc) for _, loc in listed)
    assert [n for n, _ in store.list_objects('c1', '')] == [
        'b1.tar.gz', 'pitr/i1/k1/0000000000000000', 'pitr/i1/k1/0000000000000010',
        'pitr/i2/k1/0000000000000000']
    assert store.list_objects('empty', 'pitr/') == []
