"""A guest that never reports ends in ERROR with a readable fault, and deletes cleanly."""
import sqlite3

import pytest

from tests.functional.helpers import mute_guest_stack


@pytest.fixture(scope='module')
def short_stack():
    with mute_guest_stack(usage_timeout=6, tenant='tenant-t') as st:
        yield st


def test_guest_timeout_then_delete(short_stack):
    st = short_stack
    code, body = st.request('POST', '/instances', {'instance': {
        'name': 'mute', 'flavorRef': '1', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb'}}})
    assert code == 200, body
    instance_id = body['instance']['id']
    body = st.wait_instance(instance_id,
                            lambda c, b: b['instance']['status'] != 'BUILD', timeout=60)
    inst = body['instance']
    assert inst['status'] == 'ERROR'
    assert 'did not report within 6 seconds' in inst['fault']['message']

    code, _ = st.request('DELETE', '/instances/%s' % instance_id)
    assert code == 202
    st.wait_instance(instance_id, lambda c, b: c == 404, timeout=60)
    assert st.local_servers() == [] and st.local_volumes() == []
    db = sqlite3.connect(st.dir + '/trove.sqlite')
    try:
        assert db.execute('SELECT count(*) FROM service_statuses WHERE instance_id = ?',
                          (instance_id,)).fetchone() == (0,)
        assert db.execute('SELECT deleted FROM instances WHERE id = ?',
                          (instance_id,)).fetchone() == (1,)
    finally:
        db.close()
