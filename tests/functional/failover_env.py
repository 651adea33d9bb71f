"""Highly available replica sets for the failover test and benchmark.

SQL clients of the two engines (``run`` one statement as the set's
application user), a set built through the API (an HA primary with the
table ``t`` and one replica), the primary's host killed -9, and a writer
that commits numbered rows and keeps those acknowledged.
"""
import contextlib
import os
import signal
import threading
import time

import psycopg
import pymysql

from tests.functional import helpers

PASSWORD = 'Fail0ver-pw'


def address(inst):
    return inst['addresses'][0]['address']


class MariaDB:
    name, port, errors = 'mariadb', 3306, pymysql.err.MySQLError

    def connect(self, inst, timeout=10):
        return pymysql.connect(host=address(inst), port=3306, user='app', password=PASSWORD,
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
        return psycopg.connect(host=address(inst), port=5432, user='app', password=PASSWORD,
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


def rows(engine, inst):
    return [r[0] for r in engine.run(inst, 'SELECT v FROM t ORDER BY id')]


def first_write(engine, inst, deadline):
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


def build_set(st, engine, synchronous, name='ha', **primary):
    """An HA primary (table ``t`` with row 'before'; ``primary``: more of
    its create request) and its replica, both ACTIVE."""
    code, body = st.request('POST', '/instances', {'instance': dict({
        'name': '%s-primary' % name, 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': engine.name}, 'databases': [{'name': 'shop'}],
        'users': [{'name': 'app', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}],
        'high_availability': {'enabled': True, 'synchronous': synchronous}}, **primary)})
    assert code == 200, body
    primary = helpers.ready(st, body['instance']['id'])
    engine.create_table(primary)
    engine.run(primary, "INSERT INTO t (v) VALUES ('before')")
    code, body = st.request('POST', '/instances', {'instance': {
        'name': '%s-replica' % name, 'replica_of': primary['id']}})
    assert code == 200, body
    return primary, helpers.ready(st, body['instance']['id'])


def kill_host(st, instance_id):
    """kill -9 every process of the instance's server (also what a dying
    supervisor forked); returns when."""
    sid = helpers.server_of(st, instance_id)[1]['sid']
    killed_at = time.time()
    while helpers.session_pids(sid):
        for pid in helpers.session_pids(sid):
            os.kill(pid, signal.SIGKILL)
    return killed_at


def kill_engine_and_agent(st, instance_id):
    """kill -9 the guest agent and every engine process of the instance's
    server, leaving its supervisor (the session leader), which restarts the
    agent as systemd would on a VM; returns when."""
    sid = helpers.server_of(st, instance_id)[1]['sid']
    agent = helpers.agent_pid(st, instance_id)
    killed_at = time.time()
    victims = [agent] + [p for p in helpers.session_pids(sid) if p not in (sid, agent)]
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return killed_at
