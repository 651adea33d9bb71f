"""Replication end to end for PostgreSQL and Redis, through the REST API.

Real daemons and engines: a primary, two replicas built from snapshots of
it, data streamed to both, writes refused on replicas, the stream's lag in
the mgmt show, a planned switchover (the old primary rewound into a replica,
the other replica re-pointed, new writes flowing from the new primary to
both), a detach into a writable standalone, and deletes leaving nothing.
"""
import time

import psycopg
import pytest
import redis

from tests.functional import helpers

PASSWORD = 'Repl1ca-pw'
FLOW_BOUND = 20      # seconds for a write to reach every member


@pytest.fixture(scope='module')
def rstack():
    with helpers.pg_redis_stack(usage_timeout=600) as st:
        yield st


def _ready(st, iid):
    return helpers.ready(st, iid)


def _address(inst):
    return inst['addresses'][0]['address']


class PostgreSQL:
    name = 'postgresql'
    create_extra = {'databases': [{'name': 'shop'}],
                    'users': [{'name': 'app', 'password': PASSWORD,
                               'databases': [{'name': 'shop'}]}]}

    def __init__(self, st, primary):
        pass

    def _conn(self, inst):
        return psycopg.connect(host=_address(inst), port=5432, user='app', password=PASSWORD,
                               dbname='shop', connect_timeout=10, autocommit=True)

    def setup(self, inst):
        with self._conn(inst) as conn:
            conn.execute('CREATE TABLE t (id SERIAL PRIMARY KEY, v TEXT)')

    def write(self, inst, value):
        with self._conn(inst) as conn:
            conn.execute('INSERT INTO t (v) VALUES (%s)', (value,))

    def read(self, inst):
        with self._conn(inst) as conn:
            return [r[0] for r in conn.execute('SELECT v FROM t ORDER BY id')]

    def refused(self):
        return psycopg.errors.ReadOnlySqlTransaction


class Redis:
    name = 'redis'
    create_extra = {}

    def __init__(self, st, primary):
        code, body = st.request('POST', '/instances/%s/root' % primary['id'])
        assert code == 200, body
        self.password = body['user']['password']

    def _cli(self, inst):
        return redis.Redis(host=_address(inst), port=6379, password=self.password,
                           socket_timeout=10)

    def setup(self, inst):
        pass

    def write(self, inst, value):
        cli = self._cli(inst)
        try:
            cli.rpush('t', value)
        finally:
            cli.close()

    def read(self, inst):
        cli = self._cli(inst)
        try:
            return [v.decode() for v in cli.lrange('t', 0, -1)]
        finally:
            cli.close()

    def refused(self):
        return redis.exceptions.ReadOnlyError


def _eventually(fn, expected):
    # A member restarting (rewound into a replica) refuses for a moment.
    return helpers.eventually(fn, expected, timeout=FLOW_BOUND)


def _replica(st, primary_id, name):
    code, body = st.request('POST', '/instances', {'instance': {
        'name': name, 'replica_of': primary_id}})
    assert code == 200, body
    assert body['instance']['replica_of']['id'] == primary_id
    return body['instance']['id']


@pytest.mark.parametrize('engine_cls', [PostgreSQL, Redis], ids=['postgresql', 'redis'])
def test_replicas_promote_detach(rstack, engine_cls):
    st = rstack
    ds = engine_cls.name
    code, body = st.request('POST', '/instances', {'instance': dict(
        name='prim-%s' % ds, flavorRef='2', volume={'size': 1},
        datastore={'type': ds, 'version': st.versions[ds]}, **engine_cls.create_extra)})
    assert code == 200, body
    primary = _ready(st, body['instance']['id'])
    eng = engine_cls(st, primary)
    eng.setup(primary)
    eng.write(primary, 'before')

    r1 = _ready(st, _replica(st, primary['id'], 'r1-%s' % ds))
    r2 = _ready(st, _replica(st, primary['id'], 'r2-%s' % ds))
    assert eng.read(r1) == ['before'] and eng.read(r2) == ['before']
    eng.write(primary, 'streamed')
    for member in (r1, r2):
        _eventually(lambda m=member: eng.read(m), ['before', 'streamed'])
    with pytest.raises(eng.refused()):
        eng.write(r1, 'refused')
    shown = st.request('GET', '/instances/%s' % primary['id'])[1]['instance']
    assert sorted(r['id'] for r in shown['replicas']) == sorted([r1['id'], r2['id']])

    # The mgmt show has each replica's stream (lag) once its guest reported.
    def stream():
        return st.request('GET', '/mgmt/instances/%s' % r2['id'])[1]['instance'].get(
            'replication')
    deadline = time.time() + 20
    report = stream()
    while not (report and report['healthy']) and time.time() < deadline:
        time.sleep(0.5)
        report = stream()
    assert report and report['healthy'] and not report['broken'], report
    assert report['following'] == '%s:%s' % (_address(primary),
                                             5432 if ds == 'postgresql' else 6379)
    assert isinstance(report['lag'], int) and report['lag'] >= 0

    # Planned switchover to r1: the old primary and r2 follow it.
    code, body = st.request('POST', '/instances/%s/action' % r1['id'],
                            {'promote_to_replica_source': {}})
    assert code == 202, body
    new_primary = _ready(st, r1['id'])
    assert 'replica_of' not in new_primary
    assert sorted(r['id'] for r in new_primary['replicas']) == sorted(
        [primary['id'], r2['id']])
    old = _ready(st, primary['id'])
    assert old['replica_of']['id'] == r1['id']
    eng.write(new_primary, 'after promote')
    want = ['before', 'streamed', 'after promote']
    for member in (old, r2):
        took = _eventually(lambda m=member: eng.read(m), want)
        print('%s: a write on the new primary reached %s in %.1fs'
              % (ds, member['name'], took))
    with pytest.raises(eng.refused()):
        eng.write(old, 'refused')

    # Detach r2: a writable standalone with its data, no longer fed.
    code, _ = st.request('PUT', '/instances/%s' % r2['id'], {'instance': {'replica_of': ''}})
    assert code == 202
    alone = _ready(st, r2['id'])
    assert 'replica_of' not in alone
    eng.write(alone, 'standalone')
    assert eng.read(alone) == want + ['standalone']
    assert 'standalone' not in eng.read(new_primary)

    # Delete every member (replicas first: a primary with replicas is kept).
    assert st.request('DELETE', '/instances/%s' % new_primary['id'])[0] == 403
    for iid in (old['id'], alone['id'], new_primary['id']):
        assert st.request('DELETE', '/instances/%s' % iid)[0] == 202
        st.wait_instance(iid, helpers.gone, timeout=120)
    assert st.local_servers() == [] and st.local_volumes() == []
    assert st.request('GET', '/backups')[1]['backups'] == []
