"""Eject after the primary's server dies (MariaDB), through the REST API.

A primary with two replicas; every process of the primary's server (the
local driver's supervisor, the guest agent, the engine) is killed with
SIGKILL, as if its host had died.  The replicas' streams break: each shows
operating status ERROR with the reason as its fault.  Once the primary's
heartbeat has expired, ``eject_replica_source`` elects a replica, the other
follows it (HEALTHY again), nothing the replicas had is lost, new writes
flow, and every member can be deleted.
"""
import os
import signal
import time

import pymysql
import pytest

from tests.functional import helpers
from tests.functional.stack import Stack

PASSWORD = 'Ej3ct-pw'
EXPIRY = 8   # agent_heartbeat_expiry of this stack
BROKEN_AFTER = 3   # replication_broken_after of its guests


@pytest.fixture(scope='module')
def estack():
    st = Stack(usage_timeout=600, default_opts={'agent_heartbeat_expiry': EXPIRY,
                                                'replication_broken_after': BROKEN_AFTER})
    try:
        yield st.start()
    finally:
        st.stop()


def _ready(st, iid):
    return helpers.ready(st, iid)


def _sql(inst, sql, args=None):
    return helpers.mariadb_sql(inst, 'app', PASSWORD, sql, args)


def _rows(inst):
    return [r[0] for r in _sql(inst, 'SELECT v FROM t ORDER BY id')]


def _eventually(fn, expected):
    helpers.eventually(fn, expected, errors=(pymysql.err.OperationalError,))


def _server_session(st, instance_id):
    for server_id in st.local_servers():
        state = helpers.server_state(st, server_id)
        if state['metadata'].get('trove_instance_id') == instance_id:
            return state['sid']
    raise AssertionError('no server for %s' % instance_id)


def test_eject_after_the_primary_server_dies(estack):
    st = estack
    code, body = st.request('POST', '/instances', {'instance': {
        'name': 'ej-prim', 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb'}, 'databases': [{'name': 'shop'}],
        'users': [{'name': 'app', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}]}})
    assert code == 200, body
    primary = _ready(st, body['instance']['id'])
    _sql(primary, 'CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))')
    _sql(primary, "INSERT INTO t (v) VALUES ('one')")
    replicas = []
    for name in ('ej-rep-1', 'ej-rep-2'):
        code, body = st.request('POST', '/instances', {'instance': {
            'name': name, 'replica_of': primary['id']}})
        assert code == 200, body
        replicas.append(_ready(st, body['instance']['id']))
    members = sorted(r['id'] for r in replicas)
    shown = st.request('GET', '/instances/%s' % primary['id'])[1]['instance']
    assert sorted(r['id'] for r in shown['replicas']) == members
    for i in range(2, 12):
        _sql(primary, 'INSERT INTO t (v) VALUES (%s)', ('row%d' % i,))
    want = ['one'] + ['row%d' % i for i in range(2, 12)]
    for member in replicas:
        _eventually(lambda m=member: _rows(m), want)

    # Refused while the primary still reports.
    code, body = st.request('POST', '/instances/%s/action' % primary['id'],
                            {'eject_replica_source': {}})
    assert code == 400 and 'still reporting' in body['badRequest']['message']

    sid = _server_session(st, primary['id'])
    pids = helpers.session_pids(sid)
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    died = time.monotonic()
    deadline = time.time() + 60
    while helpers.session_pids(sid) and time.time() < deadline:
        time.sleep(0.2)
    assert helpers.session_pids(sid) == []

    # The replicas cannot follow any more: not a silent HEALTHY.
    def broken(_code, body):
        inst = body['instance']
        return inst['operating_status'] == 'ERROR' and 'Replication from' in (
            inst.get('fault') or {}).get('message', '')
    for iid in members:
        inst = st.wait_instance(iid, broken, timeout=BROKEN_AFTER + 30)['instance']
        assert inst['status'] == 'ACTIVE'
        assert primary['addresses'][0]['address'] in inst['fault']['message']

    # Once the heartbeat expired, eject is taken.
    deadline = time.time() + EXPIRY * 4
    while True:
        code, body = st.request('POST', '/instances/%s/action' % primary['id'],
                                {'eject_replica_source': {}})
        if code == 202 or time.time() > deadline:
            break
        assert code == 400, body
        time.sleep(1)
    assert code == 202, body

    def topology(_code, body):
        return _code == 200 and body['instance']['status'] != 'EJECT'
    st.wait_instance(primary['id'], topology, timeout=120)
    views = {iid: st.request('GET', '/instances/%s' % iid)[1]['instance'] for iid in members}
    leaders = [iid for iid, v in views.items() if 'replica_of' not in v]
    assert len(leaders) == 1, views
    leader = leaders[0]
    follower = next(iid for iid in members if iid != leader)
    assert views[follower]['replica_of']['id'] == leader
    assert [r['id'] for r in views[leader]['replicas']] == [follower]
    print('primary server killed -> new primary %s elected in %.1fs'
          % (leader, time.monotonic() - died))

    new_primary, other = _ready(st, leader), _ready(st, follower)
    assert _rows(new_primary) == want                      # nothing lost
    _sql(new_primary, "INSERT INTO t (v) VALUES ('after eject')")
    _eventually(lambda: _rows(other), want + ['after eject'])
    with pytest.raises(pymysql.err.OperationalError, match='read-only|read_only|1290'):
        _sql(other, "INSERT INTO t (v) VALUES ('refused')")
    old = st.request('GET', '/instances/%s' % primary['id'])[1]['instance']
    assert 'replicas' not in old and 'replica_of' not in old

    for iid in (follower, primary['id'], leader):
        assert st.request('DELETE', '/instances/%s' % iid)[0] == 202, iid
        st.wait_instance(iid, helpers.gone, timeout=120)
    assert st.local_servers() == [] and st.local_volumes() == []
    assert st.request('GET', '/backups')[1]['backups'] == []
