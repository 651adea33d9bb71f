"""Two of each daemon on one MariaDB infra database, coordinated through Redis.

One stack runs two api, two taskmanager and two conductor processes, with
``[coordination] backend_url`` on a private redis-server and the
infrastructure database on the machine's MariaDB.  Each case kills -9 the
taskmanager that owns a task (``task_requests.owner`` is its member id,
``host.pid``) in the middle of it and asserts that the survivor finishes the
task within TAKEOVER_BOUND seconds of the kill; a killed taskmanager is
replaced by a new process, so two are always running.  Periodic jobs run in
one taskmanager only, and the two conductors share one instance's
heartbeats without reordering its status.
"""
import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pymysql
import pytest

from tests.functional import failover_env
from tests.functional import helpers
from tests.functional.infra_mariadb import InfraDatabase
from tests.functional.private_redis import PrivateRedis
from tests.functional.stack import Stack

TAKEOVER_BOUND = 30
PASSWORD = 'Act1ve-act1ve'
FILL = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'tools', 'bench', 'fill_instances.py')


class Cluster:
    """The stack, its infra database and the names of its live taskmanagers."""

    def __init__(self, stack, db):
        self.stack, self.db = stack, db
        self.taskmanagers = ['taskmanager', 'taskmanager-2']
        self.api2 = None
        self._serial = 2

    def sql(self, statement, args=()):
        conn = self.db.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(statement, args)
                return cur.fetchall()
        finally:
            conn.close()

    def owner(self, instance_id, action):
        rows = self.sql('SELECT owner FROM task_requests WHERE instance_id = %s AND '
                        'action = %s', (instance_id, action))
        return rows[0][0] if rows else None

    def wait_owner(self, instance_id, action, timeout=60):
        """The key in stack.procs of the taskmanager that started the task."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            owner = self.owner(instance_id, action)
            if owner:
                pid = int(owner.rsplit('.', 1)[1])
                for key in self.taskmanagers:
                    if self.stack.procs[key].pid == pid:
                        return key
                raise AssertionError('owner %s is none of %s' % (owner, self.taskmanagers))
            time.sleep(0.1)
        raise AssertionError('no taskmanager started %s of %s' % (action, instance_id))

    def kill(self, key):
        """kill -9 a taskmanager, then start a new one in its place."""
        proc = self.stack.procs.pop(key)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.taskmanagers.remove(key)
        killed_at = time.time()
        self._serial += 1
        new = 'taskmanager-%d' % self._serial
        self.stack.start_daemon('taskmanager', new)
        self.taskmanagers.append(new)
        self.wait_serving(new)
        return killed_at

    @contextlib.contextmanager
    def frozen(self):
        """SIGSTOP a taskmanager (casts it takes wait in it), then kill -9 it;
        yields a dict that gets ``killed_at``."""
        key = self.taskmanagers[0]
        os.kill(self.stack.procs[key].pid, signal.SIGSTOP)
        result = {}
        try:
            yield result
        finally:
            result['killed_at'] = self.kill(key)

    def wait_serving(self, key):
        """Until the process consumes its RPC topic (casts go to it in turn)."""
        helpers.eventually(lambda: 'Serving RPC topic' in self.log(key), True,
                           errors=(OSError,))

    def log(self, key):
        path = os.path.join(self.stack.dir, 'log', 'trove-%s.log' % key)
        with open(path, errors='replace') as f:
            return f.read()

    def logs_with(self, text, keys):
        return [key for key in keys if text in self.log(key)]


@pytest.fixture(scope='module')
def cluster():
    redis = PrivateRedis().start()
    db = InfraDatabase()
    st = Stack(database=db.url, sections={'coordination': {
        'backend_url': redis.url(timeout=3), 'takeover_interval': 2, 'orphan_after': 10}})
    helpers.with_store(st)
    try:
        st.start()
        st.start_daemon('conductor', 'conductor-2')
        st.start_daemon('taskmanager', 'taskmanager-2')
        c = Cluster(st, db)
        c.api2 = st.start_api('api-2')
        for key in c.taskmanagers:
            c.wait_serving(key)
        yield c
    finally:
        st.stop()
        db.drop()
        redis.stop()


def _create(c, name, port=None):
    code, body = c.stack.request('POST', '/instances', {'instance': {
        'name': name, 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb'}, 'databases': [{'name': 'shop'}],
        'users': [{'name': 'app', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}]}},
        port=port)
    assert code == 200, body
    return body['instance']['id']


def _wait_active(c, instance_id, timeout):
    body = c.stack.wait_instance(instance_id, lambda code, b: code == 200 and (
        b['instance']['status'] == 'ERROR'
        or b['instance'].get('operating_status') == 'HEALTHY'), timeout=timeout)
    assert body['instance']['status'] == 'ACTIVE', body
    return body['instance']


def _rows(inst):
    conn = pymysql.connect(host=inst['addresses'][0]['address'], port=3306, user='app',
                           password=PASSWORD, database='shop', connect_timeout=10)
    try:
        with conn.cursor() as cur:
            cur.execute('CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY)')
            cur.execute('REPLACE INTO t VALUES (1)')
            conn.commit()
            cur.execute('SELECT COUNT(*) FROM t')
            return cur.fetchone()[0]
    finally:
        conn.close()


def _backup_states(c, ids):
    states = []
    for backup_id in ids:
        code, body = c.stack.request('GET', '/backups/%s' % backup_id)
        assert code == 200, body
        states.append(body['backup']['status'])
    return states


def test_one_taskmanager_leads_each_periodic_job(cluster):
    c = cluster
    text = 'now runs periodic job backup-watchdog'
    helpers.eventually(lambda: len(c.logs_with(text, c.taskmanagers)), 1)
    time.sleep(3)
    leaders = c.logs_with(text, c.taskmanagers)
    assert len(leaders) == 1, leaders
    c.kill(leaders[0])
    # Its lock expires with its membership (3 s); the next run of the job in
    # the survivor or in the new process takes it, and only one of them.
    helpers.eventually(lambda: len(c.logs_with(text, c.taskmanagers)), 1, timeout=25)
    time.sleep(12)  # a watchdog interval: the other one ran the job and did not lead
    assert len(c.logs_with(text, c.taskmanagers)) == 1


def test_build_finishes_after_its_taskmanager_dies(cluster):
    c = cluster
    first = _create(c, 'aa-build-1')
    second = _create(c, 'aa-build-2', port=c.api2)
    owner = c.wait_owner(first, 'create_instance')
    killed_at = c.kill(owner)
    inst = _wait_active(c, first, TAKEOVER_BOUND + 30)
    took = time.time() - killed_at
    assert took <= TAKEOVER_BOUND, 'ACTIVE %.1fs after the kill' % took
    # The survivor or the process started in the killed one's place.
    assert c.logs_with('Taking over create_instance of instance %s' % first, c.taskmanagers)
    assert _rows(inst) == 1
    assert _rows(_wait_active(c, second, 300)) == 1
    assert c.owner(first, 'create_instance') is None  # the request is gone


def test_backup_cast_to_a_dead_taskmanager_completes(cluster):
    c = cluster
    ids = [i['id'] for i in c.stack.request('GET', '/instances')[1]['instances']]
    assert len(ids) == 2
    with c.frozen() as kill:
        backups = []
        for n, instance_id in enumerate(ids):
            code, body = c.stack.request('POST', '/backups', {'backup': {
                'name': 'aa-%d' % n, 'instance': instance_id}})
            assert code == 202, body
            backups.append(body['backup']['id'])
        # The queue hands casts out in turn: one of them went to the frozen one.
        time.sleep(4)
        assert 'NEW' in _backup_states(c, backups)
    helpers.eventually(lambda: _backup_states(c, backups), ['COMPLETED'] * 2,
                       timeout=TAKEOVER_BOUND)
    assert time.time() - kill['killed_at'] <= TAKEOVER_BOUND


def test_backup_delete_cast_to_a_dead_taskmanager_finishes(cluster):
    c = cluster
    backups = [b['id'] for b in c.stack.request('GET', '/backups')[1]['backups']]
    assert len(backups) == 2
    with c.frozen() as kill:
        for backup_id in backups:
            code, body = c.stack.request('DELETE', '/backups/%s' % backup_id)
            assert code == 202, body
        time.sleep(4)
        assert c.stack.request('GET', '/backups')[1]['backups']  # one waits in the frozen one
    helpers.eventually(lambda: c.stack.request('GET', '/backups')[1]['backups'], [],
                       timeout=TAKEOVER_BOUND)
    assert time.time() - kill['killed_at'] <= TAKEOVER_BOUND
    assert os.listdir(c.stack.store) == [] or all(
        not os.listdir(os.path.join(c.stack.store, d)) for d in os.listdir(c.stack.store))


def test_delete_finishes_after_its_taskmanager_dies(cluster):
    c = cluster
    instance_id = c.stack.request('GET', '/instances')[1]['instances'][0]['id']
    # A guest that does not answer holds the delete in its stop_db call.
    agent = helpers.agent_pid(c.stack, instance_id)
    os.kill(agent, signal.SIGSTOP)
    try:
        code, body = c.stack.request('DELETE', '/instances/%s' % instance_id)
        assert code == 202, body
        owner = c.wait_owner(instance_id, 'delete_instance')
        time.sleep(1)
        killed_at = c.kill(owner)
    finally:
        os.kill(agent, signal.SIGCONT)
    c.stack.wait_instance(instance_id, helpers.gone, timeout=TAKEOVER_BOUND + 30)
    took = time.time() - killed_at
    assert took <= TAKEOVER_BOUND, 'gone %.1fs after the kill' % took
    assert c.logs_with('Taking over delete_instance of instance %s' % instance_id,
                       c.taskmanagers)
    assert all(helpers.server_state(c.stack, s)['metadata'].get('trove_instance_id')
               != instance_id for s in c.stack.local_servers())
    assert c.sql('SELECT COUNT(*) FROM task_requests WHERE instance_id = %s',
                 (instance_id,))[0][0] == 0


_HEARTBEATS = '''
import sys, time
from trove.conf import CONF
CONF(['--config-file', sys.argv[1]], project='trove')
CONF.set_override('guest_id', sys.argv[2])
CONF.set_override('instance_rpc_encr_key', sys.argv[3])
from trove.common import context
from trove.conductor import rpcapi
api = rpcapi.ConductorAPI(context.admin_context())
count = int(sys.argv[4])
for i in range(count):
    if i == count - 1:
        print(time.time(), flush=True)
    status = 'healthy' if i == count - 1 else ('blocked' if i % 2 else 'shutdown')
    api.heartbeat(instance_id=sys.argv[2], payload={'service_status': status})
    time.sleep(0.01)
time.sleep(1)
'''


def test_two_conductors_keep_an_instance_status_in_order(cluster):
    c = cluster
    keys = json.loads(subprocess.run(
        [sys.executable, FILL, c.stack.conf, 'hb-tenant', '1', '--keys'], check=True,
        capture_output=True, text=True).stdout)
    [(instance_id, key)] = keys.items()
    res = subprocess.run([sys.executable, '-c', _HEARTBEATS, c.stack.conf, instance_id,
                          key, '300'], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    last = float(res.stdout.split()[-1])

    def applied():
        rows = c.sql("SELECT sent FROM conductor_lastseen WHERE "
                     "instance_id = %s AND method_name = 'heartbeat'", (instance_id,))
        return bool(rows) and float(rows[0][0]) >= last
    helpers.eventually(applied, True, timeout=30)
    time.sleep(2)  # nothing older lands after the newest
    [(status,)] = c.sql('SELECT status_description FROM service_statuses WHERE '
                        'instance_id = %s', (instance_id,))
    assert status == 'healthy'
    text = 'Instance %s service status' % instance_id
    assert c.logs_with(text, ['conductor', 'conductor-2']) == ['conductor', 'conductor-2']


def test_failover_finishes_after_its_taskmanager_dies(cluster):
    c = cluster
    primary_id = _create(c, 'aa-ha-primary')
    c.stack.request('PUT', '/instances/%s' % primary_id,
                    {'instance': {'high_availability': {'enabled': True}}})
    primary = _wait_active(c, primary_id, 300)
    assert _rows(primary) == 1
    code, body = c.stack.request('POST', '/instances', {'instance': {
        'name': 'aa-ha-replica', 'replica_of': primary_id}})
    assert code == 200, body
    replica = _wait_active(c, body['instance']['id'], 300)
    # A replica that does not answer holds the failover in its first call.
    agent = helpers.agent_pid(c.stack, replica['id'])
    os.kill(agent, signal.SIGSTOP)
    try:
        failover_env.kill_host(c.stack, primary_id)
        owner = c.wait_owner(primary_id, 'fail_over')
        killed_at = c.kill(owner)
    finally:
        os.kill(agent, signal.SIGCONT)
    helpers.eventually(lambda: c.stack.request('GET', '/instances/%s/failovers' % primary_id)[
        1]['failovers'][0]['state'], 'completed', timeout=TAKEOVER_BOUND + 30)
    assert time.time() - killed_at <= TAKEOVER_BOUND
    assert c.logs_with('Taking over fail_over of instance %s' % primary_id, c.taskmanagers)
    records = c.stack.request('GET', '/instances/%s/failovers' % primary_id)[1]['failovers']
    assert [(r['state'], r['new_primary_id']) for r in records] == [
        ('completed', replica['id'])]
    shown = c.stack.request('GET', '/instances/%s' % replica['id'])[1]['instance']
    assert 'replica_of' not in shown
    assert _rows(replica) == 1  # writable, the row of the old primary is there
