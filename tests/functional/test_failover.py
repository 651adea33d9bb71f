"""Automatic failover of a highly available replica set, end to end
(MariaDB and PostgreSQL).

Real daemons and engines through the REST API: a primary created with
``high_availability.enabled`` and a replica built from it.  Every process
of the primary's server (supervisor, guest agent, mariadbd) is killed -9, as
if its host had died; the taskmanager's failover watch fences it, promotes
the replica, and the client's first write on the new primary is accepted
within WRITABLE_BOUND seconds of the kill with every earlier row there.
In synchronous mode a client commits rows without pause while the primary
is killed: every commit it got an acknowledgement for is on the new primary.
The failover is visible to the tenant (the old primary's fault and
failover list) and to the admin (/mgmt/failovers).
"""
import os
import signal
import threading
import time

import psycopg
import pymysql
import pytest

from tests.functional import helpers
from tests.functional.stack import Stack

PASSWORD = 'Fail0ver-pw'
WRITABLE_BOUND = 10


@pytest.fixture(scope='module')
def fstack():
    pg = helpers.pg_version()
    st = Stack(usage_timeout=600, sections={'failover': {'check_interval': 0.5}})
    try:
        st.start(datastore_versions=[('postgresql', pg, 'postgresql')] if pg else [])
        st.pg = pg
        yield st
    finally:
        st.stop()


def _address(inst):
    return inst['addresses'][0]['address']


class MariaDB:
    name, port, errors = 'mariadb', 3306, pymysql.err.MySQLError

    def connect(self, inst, timeout=10):
        return pymysql.connect(host=_address(inst), port=3306, user='app', password=PASSWORD,
                               database='shop', connect_timeout=timeout,
                               read_timeout=max(2, timeout), write_timeout=max(2, timeout),
                               autocommit=True)

    def create_table(self, inst):
        self.run(inst, 'CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))')

    def synchronous(self, inst):
        """True when commits on ``inst`` wait for a replica (semi-sync with a
        replica connected)."""
        status = dict(self.run(inst, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_%'"))
        return (status.get('Rpl_semi_sync_master_status') == 'ON'
                and int(status.get('Rpl_semi_sync_master_clients', 0)) >= 1)

    def run(self, inst, sql, args=None, timeout=10):
        with self.connect(inst, timeout) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()


class PostgreSQL(MariaDB):
    name, port, errors = 'postgresql', 5432, psycopg.Error

    def connect(self, inst, timeout=10):
        # A commit waiting for a standby that is not there must not hang the test.
        return psycopg.connect(host=_address(inst), port=5432, user='app', password=PASSWORD,
                               dbname='shop', connect_timeout=timeout, autocommit=True,
                               options='-c statement_timeout=%d' % (max(2, timeout) * 1000))

    def create_table(self, inst):
        self.run(inst, 'CREATE TABLE t (id SERIAL PRIMARY KEY, v TEXT)')

    def synchronous(self, inst):
        return self.run(inst, 'SHOW synchronous_standby_names') == [('ANY 1 (*)',)]

    def run(self, inst, sql, args=None, timeout=10):
        with self.connect(inst, timeout) as conn:
            cur = conn.execute(sql, args)
            return cur.fetchall() if cur.description else []


def _rows(engine, inst):
    return [r[0] for r in engine.run(inst, 'SELECT v FROM t ORDER BY id')]


def _server_of(st, instance_id):
    for server_id in st.local_servers():
        state = helpers.server_state(st, server_id)
        if state['metadata'].get('trove_instance_id') == instance_id:
            return state
    raise AssertionError('no server for %s' % instance_id)


def _first_write(engine, inst, deadline):
    """When an INSERT on ``inst`` first commits, trying every 50 ms."""
    start = time.time()
    while time.time() < deadline:
        try:
            engine.run(inst, "INSERT INTO t (v) VALUES ('after failover')", timeout=1)
            return time.time()
        except engine.errors:
            time.sleep(0.05)
    raise AssertionError('no write accepted %.0fs after the kill' % (deadline - start))


class Writer(threading.Thread):
    """Commits numbered rows one by one until stopped; keeps the acknowledged ones."""

    def __init__(self, engine, inst):
        super().__init__(daemon=True)
        self.engine, self.inst = engine, inst
        self.acked, self.stop = [], threading.Event()

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                self.engine.run(self.inst, 'INSERT INTO t (v) VALUES (%s)', ('w%d' % n,),
                                timeout=2)
                self.acked.append('w%d' % n)
            except self.engine.errors:
                time.sleep(0.05)


@pytest.mark.parametrize('synchronous', [False, True], ids=['async', 'sync'])
@pytest.mark.parametrize('engine', [MariaDB(), PostgreSQL()], ids=lambda e: e.name)
def test_the_replica_takes_over_from_a_dead_primary(fstack, engine, synchronous):
    st = fstack
    if engine.name == 'postgresql' and not st.pg:
        pytest.skip('PostgreSQL binaries are missing')
    code, body = st.request('POST', '/instances', {'instance': {
        'name': 'ha-primary', 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': engine.name}, 'databases': [{'name': 'shop'}],
        'users': [{'name': 'app', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
        'high_availability': {'enabled': True, 'synchronous': synchronous}}})
    assert code == 200, body
    primary = helpers.ready(st, body['instance']['id'])
    shown = st.request('GET', '/instances/%s' % primary['id'])[1]['instance']
    assert shown['high_availability'] == {'enabled': True, 'synchronous': synchronous}
    engine.create_table(primary)
    engine.run(primary, "INSERT INTO t (v) VALUES ('before')")
    code, body = st.request('POST', '/instances', {'instance': {
        'name': 'ha-replica', 'replica_of': primary['id']}})
    assert code == 200, body
    replica = helpers.ready(st, body['instance']['id'])
    for n in range(20):
        engine.run(primary, 'INSERT INTO t (v) VALUES (%s)', ('row %d' % n,))
    expected = ['before'] + ['row %d' % n for n in range(20)]
    helpers.eventually(lambda: _rows(engine, replica), expected, errors=())

    assert engine.synchronous(primary) is synchronous
    writer = Writer(engine, primary)
    if synchronous:
        writer.start()
        helpers.eventually(lambda: len(writer.acked) >= 20, True)

    # The primary's host dies: every process of its server, at once.
    sid = _server_of(st, primary['id'])['sid']
    killed_at = time.time()
    while helpers.session_pids(sid):   # also what a dying supervisor forked
        for pid in helpers.session_pids(sid):
            os.kill(pid, signal.SIGKILL)
    written_at = _first_write(engine, replica, killed_at + 60)
    writer.stop.set()
    took = written_at - killed_at
    assert took <= WRITABLE_BOUND, 'first write %.1fs after the kill' % took
    rows = _rows(engine, replica)
    # Nothing acknowledged is lost: every row the client was told was
    # committed is on the new primary (async: it had caught up before).
    assert rows[:len(expected)] == expected and rows[-1] == 'after failover'
    assert set(writer.acked) <= set(rows), sorted(set(writer.acked) - set(rows))

    # The first write lands as soon as the replica is promoted; the record
    # ends once the rest of the set follows.
    helpers.eventually(lambda: st.request('GET', '/instances/%s/failovers' % primary['id'])[
        1]['failovers'][0]['state'], 'completed')
    new = st.request('GET', '/instances/%s' % replica['id'])[1]['instance']
    assert 'replica_of' not in new and [r['id'] for r in new['replicas']] == [primary['id']]
    assert new['high_availability']['enabled'] is True   # the set stays highly available
    old = st.request('GET', '/instances/%s' % primary['id'])[1]['instance']
    assert old['replica_of']['id'] == replica['id']
    assert 'Instance %s took over' % replica['id'] in old['fault']['message']
    # Its only replica is the dead old primary: commits do not wait for it.
    assert ('Synchronous replication is suspended' in old['fault']['message']) is synchronous
    assert engine.synchronous(replica) is False
    [record] = st.request('GET', '/instances/%s/failovers' % primary['id'])[1]['failovers']
    assert (record['state'], record['new_primary_id']) == ('completed', replica['id'])
    assert 'SHUTDOWN' in record['reason'] and record['seconds_to_writable'] <= took + 5
    admin = st.request('GET', '/mgmt/failovers')[1]['failovers']
    assert admin[0]['id'] == record['id']

    # Delete always works: the fenced old primary, then the new one.
    for iid in (primary['id'], replica['id']):
        code, body = st.request('DELETE', '/instances/%s' % iid)
        assert code == 202, body
        st.wait_instance(iid, helpers.gone, timeout=120)
