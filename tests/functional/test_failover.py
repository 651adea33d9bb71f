"""Automatic failover of a highly available MariaDB replica set, end to end.

Real daemons and engines through the REST API: a primary created with
``high_availability.enabled`` and a replica built from it.  Every process
of the primary's server (supervisor, guest agent, mariadbd) is killed -9, as
if its host had died; the taskmanager's failover watch fences it, promotes
the replica, and the client's first write on the new primary is accepted
within WRITABLE_BOUND seconds of the kill with every earlier row there.
The failover is visible to the tenant (the old primary's fault and
failover list) and to the admin (/mgmt/failovers).
"""
import os
import signal
import time

import pymysql
import pytest

from tests.functional import helpers
from tests.functional.stack import Stack

PASSWORD = 'Fail0ver-pw'
WRITABLE_BOUND = 10


@pytest.fixture(scope='module')
def fstack():
    st = Stack(usage_timeout=600, sections={'failover': {'check_interval': 0.5}})
    try:
        yield st.start()
    finally:
        st.stop()


def _sql(inst, sql, args=None):
    return helpers.mariadb_sql(inst, 'app', PASSWORD, sql, args)


def _rows(inst):
    return [r[0] for r in _sql(inst, 'SELECT v FROM t ORDER BY id')]


def _server_of(st, instance_id):
    for server_id in st.local_servers():
        state = helpers.server_state(st, server_id)
        if state['metadata'].get('trove_instance_id') == instance_id:
            return state
    raise AssertionError('no server for %s' % instance_id)


def _first_write(inst, deadline):
    """Seconds until an INSERT on ``inst`` commits, trying every 50 ms."""
    start = time.time()
    while time.time() < deadline:
        try:
            conn = pymysql.connect(host=inst['addresses'][0]['address'], port=3306,
                                   user='app', password=PASSWORD, database='shop',
                                   connect_timeout=1, read_timeout=2, write_timeout=2)
            try:
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO t (v) VALUES ('after failover')")
                conn.commit()
                return time.time()
            finally:
                conn.close()
        except pymysql.err.MySQLError:
            time.sleep(0.05)
    raise AssertionError('no write accepted %.0fs after the kill' % (deadline - start))


def test_the_replica_takes_over_from_a_dead_primary(fstack):
    st = fstack
    code, body = st.request('POST', '/instances', {'instance': {
        'name': 'ha-primary', 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb'}, 'databases': [{'name': 'shop'}],
        'users': [{'name': 'app', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
        'high_availability': {'enabled': True}}})
    assert code == 200, body
    primary = helpers.ready(st, body['instance']['id'])
    shown = st.request('GET', '/instances/%s' % primary['id'])[1]['instance']
    assert shown['high_availability'] == {'enabled': True, 'synchronous': False}
    _sql(primary, 'CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))')
    _sql(primary, "INSERT INTO t (v) VALUES ('before')")
    code, body = st.request('POST', '/instances', {'instance': {
        'name': 'ha-replica', 'replica_of': primary['id']}})
    assert code == 200, body
    replica = helpers.ready(st, body['instance']['id'])
    for n in range(20):
        _sql(primary, 'INSERT INTO t (v) VALUES (%s)', ('row %d' % n,))
    expected = ['before'] + ['row %d' % n for n in range(20)]
    helpers.eventually(lambda: _rows(replica), expected, errors=())

    # The primary's host dies: every process of its server, at once.
    sid = _server_of(st, primary['id'])['sid']
    killed_at = time.time()
    for pid in helpers.session_pids(sid):
        os.kill(pid, signal.SIGKILL)
    written_at = _first_write(replica, killed_at + 60)
    took = written_at - killed_at
    assert took <= WRITABLE_BOUND, 'first write %.1fs after the kill' % took
    assert _rows(replica) == expected + ['after failover']

    new = st.request('GET', '/instances/%s' % replica['id'])[1]['instance']
    assert 'replica_of' not in new and [r['id'] for r in new['replicas']] == [primary['id']]
    assert new['high_availability']['enabled'] is True   # the set stays highly available
    old = st.request('GET', '/instances/%s' % primary['id'])[1]['instance']
    assert old['replica_of']['id'] == replica['id']
    assert 'Instance %s took over' % replica['id'] in old['fault']['message']
    [record] = st.request('GET', '/instances/%s/failovers' % primary['id'])[1]['failovers']
    assert (record['state'], record['new_primary_id']) == ('completed', replica['id'])
    assert 'SHUTDOWN' in record['reason'] and record['seconds_to_writable'] <= took + 5
    admin = st.request('GET', '/mgmt/failovers')[1]['failovers']
    assert [f['id'] for f in admin] == [record['id']]

    # Delete always works: the fenced old primary, then the new one.
    for iid in (primary['id'], replica['id']):
        code, body = st.request('DELETE', '/instances/%s' % iid)
        assert code == 202, body
        st.wait_instance(iid, helpers.gone, timeout=120)
