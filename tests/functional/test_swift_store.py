"""The Swift backup store against a real Swift all-in-one (tests/functional/swift_server.py).

Segmented uploads become real static large objects: the segments land in
``<container>_segments``, GET of the manifest streams them back joined, and
deleting the manifest with ``multipart-manifest=delete`` removes them too.
With ``swift_url`` naming ``%(tenant_id)s`` each project's objects go to its
own account and a store without a project (the control plane's) reaches
them through the location.  The wire-exact checks and injected failures
stay in tests/unit/backup/test_swift_store.py, against the HTTP fake.
"""
import hashlib

import pytest
from swiftclient import client as swift_client

from trove.backup.stores import base, swift as swift_store
from trove.common import exception
from trove.conf import CONF

from tests.functional.swift_server import object_names

PAYLOAD = bytes(range(256)) * 10  # 2560 bytes: three segments of 1024


def _conn(server, account='t'):
    return swift_client.Connection(preauthurl=server.account_url(account),
                                   preauthtoken='any', retries=0)


@pytest.fixture
def store(swift):
    return swift_store.SwiftStore(connection=_conn(swift), segment_size=1024)


def test_segmented_object_round_trip(store, swift):
    chunks = [PAYLOAD[:700], PAYLOAD[700:1900], PAYLOAD[1900:]]
    obj = store.put_stream('bk', 'b1.xbstream.zst', iter(chunks), {'parent_id': 'p1'})
    assert obj.size == len(PAYLOAD)
    assert obj.checksum == hashlib.sha256(PAYLOAD).hexdigest()
    assert obj.location == swift.account_url('t') + '/bk/b1.xbstream.zst'
    conn = _conn(swift)
    assert object_names(conn, 'bk_segments') == ['b1.xbstream.zst/%08d' % i for i in range(3)]
    # Swift itself answers the manifest with the joined segments.
    headers, body = conn.get_object('bk', 'b1.xbstream.zst')
    assert body == PAYLOAD and headers['x-static-large-object'] == 'True'

    assert b''.join(store.get_stream(obj.location, chunk_size=100)) == PAYLOAD
    assert store.get_metadata(obj.location) == {
        'parent_id': 'p1', 'size': len(PAYLOAD), 'checksum': obj.checksum}
    assert base.verify(store, obj.location, obj.checksum) == len(PAYLOAD)

    store.delete(obj.location)
    assert not store.exists(obj.location)
    assert object_names(conn, 'bk') == [] and object_names(conn, 'bk_segments') == []
    store.delete(obj.location)  # already gone is fine


def test_empty_stream_is_an_empty_object(store):
    obj = store.put_stream('bk', 'empty', iter([]), {})
    assert obj.size == 0 and b''.join(store.get_stream(obj.location)) == b''
    store.delete(obj.location)


def test_discard_partial_removes_orphan_segments(store, swift):
    conn = _conn(swift)
    conn.put_container('database_backups_segments')
    for name in ('b7.xbstream.zst/00000000', 'b7.xbstream.zst/00000001', 'other/00000000'):
        conn.put_object('database_backups_segments', name, contents=b'x')
    assert store.discard_partial('b7') == ['b7.xbstream.zst/00000000',
                                           'b7.xbstream.zst/00000001']
    assert object_names(conn, 'database_backups_segments') == ['other/00000000']
    assert store.discard_partial('b7', container='nothing-here') == []


def test_list_objects_by_prefix(store):
    store.put_stream('arch', 'pitr/i1/k/0000000000000000', [b'abc'], {})
    store.put_stream('arch', 'pitr/i2/k/0000000000000000', [b'def'], {})
    listed = store.list_objects('arch', 'pitr/i1/')
    assert [n for n, _ in listed] == ['pitr/i1/k/0000000000000000']
    assert b''.join(store.get_stream(listed[0][1])) == b'abc'
    assert store.get_metadata(listed[0][1])['size'] == 3


def test_foreign_location_refused(store, swift):
    with pytest.raises(exception.BadRequest):
        store.delete('http://elsewhere/v1/AUTH_x/bk/b1')
    with pytest.raises(exception.NotFound):
        store.get_metadata(swift.account_url('t') + '/bk/missing')


@pytest.fixture
def per_tenant(swift):
    """``[backup] swift_url`` naming the project, no Keystone (noauth token)."""
    CONF.set_override('swift_url', swift.url_template, group='backup')
    CONF.set_override('swift_segment_size', 1024, group='backup')
    try:
        yield swift
    finally:
        CONF.clear_override('swift_url', group='backup')
        CONF.clear_override('swift_segment_size', group='backup')


def test_each_project_writes_into_its_own_account(per_tenant):
    swift = per_tenant
    a = swift_store.SwiftStore(tenant_id='proj-a').put_stream('logs', 'x/log-1', [PAYLOAD], {})
    b = swift_store.SwiftStore(tenant_id='proj-b').put_stream('logs', 'x/log-1', [b'b'], {})
    assert a.location == swift.account_url('proj-a') + '/logs/x/log-1'
    assert b.location == swift.account_url('proj-b') + '/logs/x/log-1'
    assert _conn(swift, 'proj-a').get_object('logs', 'x/log-1')[1] == PAYLOAD
    # The control plane has no project of its own: the location names the account.
    control = swift_store.SwiftStore()
    assert b''.join(control.get_stream(a.location)) == PAYLOAD
    control.delete(b.location)
    assert not control.exists(b.location) and control.exists(a.location)
    # The taskmanager cleans a dead upload in the owner's account.
    _conn(swift, 'proj-a').put_object('logs_segments', 'orphan/00000000', contents=b'o')
    assert swift_store.SwiftStore(tenant_id='proj-b').discard_partial('orphan', 'logs') == []
    assert swift_store.SwiftStore(tenant_id='proj-a').discard_partial('orphan', 'logs') == [
        'orphan/00000000']
    with pytest.raises(exception.BadRequest, match='project'):
        control.put_stream('logs', 'y', [b'y'], {})
    with pytest.raises(exception.BadRequest):
        control.get_stream('http://127.0.0.1:1/v1/AUTH_proj-a/logs/x/log-1')
    control.delete(a.location)
