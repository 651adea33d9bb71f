"""Replication end to end (MariaDB): replica, promote, detach, refusals, delete.

Real daemons and engines through the REST API: the replica is built from a
snapshot of the primary and follows its GTID stream; every step is checked
inside the engines with PyMySQL.
"""
import pymysql
import pytest

from tests.functional import helpers
from tests.functional.helpers import gone

PASSWORD = 'Repl1ca-pw'


@pytest.fixture(scope='module')
def rstack(long_stack):
    return long_stack


def _ready(st, iid):
    return helpers.ready(st, iid)


def _sql(inst, sql, args=None):
    return helpers.mariadb_sql(inst, 'app', PASSWORD, sql, args)


def _eventually(fn, expected):
    helpers.eventually(fn, expected, errors=())


def _rows(inst):
    return [r[0] for r in _sql(inst, 'SELECT v FROM t ORDER BY id')]


def _action(st, iid, name):
    code, body = st.request('POST', '/instances/%s/action' % iid, {name: {}})
    assert code == 202, body


def test_replica_promote_detach(rstack):
    st = rstack
    code, body = st.request('POST', '/instances', {'instance': {
        'name': 'prim', 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb'}, 'databases': [{'name': 'shop'}],
        'users': [{'name': 'app', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}]}})
    assert code == 200, body
    primary = _ready(st, body['instance']['id'])
    _sql(primary, 'CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))')
    _sql(primary, "INSERT INTO t (v) VALUES ('before')")

    code, body = st.request('POST', '/instances', {'instance': {
        'name': 'rep', 'replica_of': primary['id']}})
    assert code == 200, body
    assert body['instance']['replica_of']['id'] == primary['id']
    replica = _ready(st, body['instance']['id'])
    assert _rows(replica) == ['before']                       # from the snapshot
    _sql(primary, "INSERT INTO t (v) VALUES ('streamed')")
    _eventually(lambda: _rows(replica), ['before', 'streamed'])
    with pytest.raises(pymysql.err.OperationalError, match='read-only|read_only|1290'):
        _sql(replica, "INSERT INTO t (v) VALUES ('refused')")
    shown = st.request('GET', '/instances/%s' % primary['id'])[1]['instance']
    assert [r['id'] for r in shown['replicas']] == [replica['id']]

    # Refusals: a replica of the replica, deleting the primary.
    code, body = st.request('POST', '/instances', {'instance': {
        'name': 'rr', 'replica_of': replica['id']}})
    assert code == 400, body
    code, body = st.request('DELETE', '/instances/%s' % primary['id'])
    assert code == 403, body

    # Planned switchover: nothing lost, writes flow the other way.
    _action(st, replica['id'], 'promote_to_replica_source')
    new_primary = _ready(st, replica['id'])
    assert 'replica_of' not in new_primary
    old = _ready(st, primary['id'])
    assert old['replica_of']['id'] == replica['id']
    _sql(new_primary, "INSERT INTO t (v) VALUES ('after promote')")
    _eventually(lambda: _rows(old), ['before', 'streamed', 'after promote'])

    # Detach the old primary: a writable standalone with its data.
    code, _ = st.request('PUT', '/instances/%s' % old['id'],
                         {'instance': {'replica_of': ''}})
    assert code == 202
    alone = _ready(st, old['id'])
    assert 'replica_of' not in alone
    _sql(alone, "INSERT INTO t (v) VALUES ('standalone')")
    assert _rows(alone)[-1] == 'standalone'
    assert 'standalone' not in _rows(new_primary)

    for iid in (new_primary['id'], alone['id']):
        assert st.request('DELETE', '/instances/%s' % iid)[0] == 202
    for iid in (new_primary['id'], alone['id']):
        st.wait_instance(iid, gone, timeout=120)
    assert st.local_servers() == [] and st.local_volumes() == []
    code, body = st.request('GET', '/backups')
    assert body['backups'] == []                     # snapshots are cleaned up
