"""Upgrade and rebuild on the local driver: a new server image, the volume kept.

The machine has one MariaDB, so it is registered twice: version V on the
built-in image and V-b on the local image ``img-b`` (images.json: the same
binaries, found through the image's own PATH).  The upgrade goes through
the real CLI (``openstack database instance upgrade``), the rebuild through
the mgmt REST action; each is checked in the engine: the rows written
before are there, ``SELECT version()`` matches the version's number, and
the agent that now runs is a new process started on the new image.
"""
import json
import os
import shutil
import time

import pymysql
import pytest

from tests.functional.helpers import gone, server_state
from tests.functional.stack import Stack, engine_version

PASSWORD = 'Upgr4de-pw'


@pytest.fixture(scope='module')
def ustack():
    st = Stack()
    try:
        os.makedirs(st.base_dir, exist_ok=True)
        bin_dir = os.path.dirname(shutil.which('mariadbd'))
        with open(os.path.join(st.base_dir, 'images.json'), 'w') as f:
            json.dump([{'id': 'img-b', 'name': 'MariaDB (second image)',
                        'bin_dirs': [bin_dir]}], f)
        st.start()
        version = engine_version()
        st.manage('datastore_version_update', 'mariadb', version + '-b', 'mariadb', 'img-b',
                  '', '1')
        yield st
    finally:
        st.stop()


def _agent(st, iid):
    """(server id, agent pid, its image, volume id) from the driver's state and /proc."""
    code, body = st.request('GET', '/mgmt/instances/%s' % iid)
    server_id = body['instance']['server_id']
    state = server_state(st, server_id)
    with open('/proc/%d/environ' % state['pid'], 'rb') as f:
        env = dict(item.split(b'=', 1) for item in f.read().split(b'\0') if b'=' in item)
    return server_id, state['pid'], env.get(b'TROVE_IMAGE_ID', b'').decode(), state['volume_id']


def _healthy(st, iid, timeout=300):
    body = st.wait_instance(iid, lambda c, b: c == 200 and (
        b['instance']['status'] in ('ERROR', 'ACTIVE')
        and b['instance'].get('operating_status') in ('HEALTHY', 'ERROR', 'SHUTDOWN')
        and b['instance']['status'] != 'UPGRADE'), timeout=timeout)
    inst = body['instance']
    assert inst['status'] == 'ACTIVE' and inst['operating_status'] == 'HEALTHY', inst
    return inst


def _query(address, sql):
    conn = pymysql.connect(host=address, port=3306, user='app', password=PASSWORD,
                           database='shop', connect_timeout=10)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            conn.commit()
            return cur.fetchall()
    finally:
        conn.close()


def test_upgrade_then_rebuild_keep_the_data(ustack):
    version = engine_version()
    created = ustack.cli_json(
        'database', 'instance', 'create', 'up1', '--flavor', '2', '--size', '1',
        '--datastore', 'mariadb', '--datastore-version', version,
        '--databases', 'shop', '--users', 'app:%s' % PASSWORD)
    iid = created['id']
    inst = _healthy(ustack, iid)
    address = inst['addresses'][0]['address']
    _query(address, 'CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))')
    _query(address, "INSERT INTO t VALUES (1, 'before')")
    server, pid, image, volume = _agent(ustack, iid)
    assert image == 'local'

    ustack.cli('database', 'instance', 'upgrade', iid, version + '-b')
    code, body = ustack.request('GET', '/instances/%s' % iid)
    assert body['instance']['status'] == 'UPGRADE'
    inst = _healthy(ustack, iid)
    assert inst['datastore']['version'] == version + '-b'
    assert inst['addresses'][0]['address'] == address
    assert _query(address, 'SELECT v FROM t') == (('before',),)
    [(server_version,)] = _query(address, 'SELECT VERSION()')
    assert server_version.startswith(version + '.')
    server2, pid2, image2, volume2 = _agent(ustack, iid)
    assert (server2, volume2) == (server, volume) and pid2 != pid and image2 == 'img-b'

    _query(address, "INSERT INTO t VALUES (2, 'upgraded')")
    code, _ = ustack.request('POST', '/mgmt/instances/%s/action' % iid,
                             {'rebuild': {'image_id': 'local'}})
    assert code == 202
    started = time.time()
    inst = _healthy(ustack, iid)
    print('rebuild: HEALTHY after %.1f s' % (time.time() - started))
    assert inst['datastore']['version'] == version + '-b'     # a rebuild keeps it
    assert _query(address, 'SELECT v FROM t ORDER BY id') == (('before',), ('upgraded',))
    server3, pid3, image3, volume3 = _agent(ustack, iid)
    assert (server3, volume3) == (server, volume) and pid3 != pid2 and image3 == 'local'

    # An image the driver does not know is refused before anything stops:
    # the engine keeps running and the fault says why.
    code, _ = ustack.request('POST', '/mgmt/instances/%s/action' % iid,
                             {'rebuild': {'image_id': 'no-such-image'}})
    assert code == 202
    body = ustack.wait_instance(iid, lambda c, b: 'fault' in b['instance'] and (
        'no-such-image' in b['instance']['fault']['message']), timeout=120)
    assert 'image no-such-image not found' in body['instance']['fault']['message']
    _healthy(ustack, iid)
    assert _agent(ustack, iid)[1] == pid3
    assert len(_query(address, 'SELECT v FROM t')) == 2
    assert ustack.request('DELETE', '/instances/%s' % iid)[0] == 202
    ustack.wait_instance(iid, gone, timeout=120)
