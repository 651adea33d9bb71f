"""Fault injection: kill -9 of a daemon at each build stage, a broker restart.

Each case builds a real MariaDB instance, injects the fault, and asserts the
end state (ACTIVE and HEALTHY), the time it took once the daemon or broker
was back (RECOVERY_BOUND), that the database and user of the request work,
and that the project's quota usage is exactly what its live instances hold.
The broker case runs its own RabbitMQ node (private_rabbit); the machine's
shared broker is never touched.
"""
import os
import signal
import time

import pymysql
import pytest

from tests.functional.helpers import gone
from tests.functional.private_rabbit import PrivateRabbit
from tests.functional.stack import Stack

RECOVERY_BOUND = 30
PASSWORD = 'Fault-t0lerant'


def _create(st, name):
    code, body = st.request('POST', '/instances', {'instance': {
        'name': name, 'flavorRef': '2', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb'}, 'databases': [{'name': 'shop'}],
        'users': [{'name': 'app', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}]}})
    assert code == 200, body
    return body['instance']['id']


def _kill(st, name):
    proc = st.procs.pop(name)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _server_booted(st, instance_id):
    code, body = st.request('GET', '/mgmt/instances/%s' % instance_id)
    return code == 200 and bool(body['instance'].get('server_id')
                                or st.local_servers())


def _wait(cond, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError('condition not reached in %ss' % timeout)


def _healthy(st, instance_id, since):
    """Wait for ACTIVE/HEALTHY; returns seconds since ``since``."""
    body = st.wait_instance(instance_id, lambda c, b: c == 200 and (
        b['instance']['status'] == 'ERROR'
        or b['instance'].get('operating_status') == 'HEALTHY'), timeout=RECOVERY_BOUND + 60)
    inst = body['instance']
    assert inst['status'] == 'ACTIVE', inst
    return time.time() - since, inst['addresses'][0]['address']


def _check_data(address):
    conn = pymysql.connect(host=address, port=3306, user='app', password=PASSWORD,
                           database='shop', connect_timeout=10)
    with conn.cursor() as cur:
        cur.execute('CREATE TABLE t (id INT PRIMARY KEY)')
        cur.execute('INSERT INTO t VALUES (1)')
        conn.commit()
        cur.execute('SELECT COUNT(*) FROM t')
        assert cur.fetchone() == (1,)
    conn.close()


def _usage(st):
    code, body = st.request('GET', '/mgmt/quotas/%s' % st.tenant)
    assert code == 200, body
    return {q['resource']: (q['in_use'], q['reserved']) for q in body['quotas']}


def _expect_usage(st, instances):
    usage = _usage(st)
    assert usage['instances'] == (instances, 0), usage
    assert usage['ram'] == (1024 * instances, 0), usage
    assert usage['volumes'] == (instances, 0), usage


def _delete(st, instance_id):
    assert st.request('DELETE', '/instances/%s' % instance_id)[0] == 202
    st.wait_instance(instance_id, gone, timeout=120)


@pytest.fixture(scope='module')
def fstack(long_stack):
    return long_stack


STAGES = {
    # right after the API answered: the create cast is in flight or just taken
    'cast': lambda st, iid: time.sleep(0.3),
    # the server exists, prepare is (about to be) cast
    'booted': lambda st, iid: _wait(lambda: _server_booted(st, iid)),
    # the guest is preparing, the taskmanager waits for its report
    'waiting': lambda st, iid: (_wait(lambda: _server_booted(st, iid)), time.sleep(3)),
}


@pytest.mark.parametrize('stage', sorted(STAGES))
def test_taskmanager_killed_during_build(fstack, stage):
    iid = _create(fstack, 'tm-%s' % stage)
    STAGES[stage](fstack, iid)
    _kill(fstack, 'taskmanager')
    back = time.time()
    fstack.start_daemon('taskmanager')
    took, address = _healthy(fstack, iid, back)
    assert took < RECOVERY_BOUND, '%s: ACTIVE %.1fs after the restart' % (stage, took)
    print('taskmanager kill -9 at %s: HEALTHY %.1f s after restart' % (stage, took))
    _check_data(address)
    _expect_usage(fstack, 1)
    assert len(fstack.local_servers()) == 1   # no second server booted
    _delete(fstack, iid)
    _expect_usage(fstack, 0)


def test_conductor_killed_during_build(fstack):
    iid = _create(fstack, 'cond')
    _kill(fstack, 'conductor')
    _wait(lambda: _server_booted(fstack, iid))
    time.sleep(3)
    back = time.time()
    fstack.start_daemon('conductor')
    took, address = _healthy(fstack, iid, back)
    assert took < RECOVERY_BOUND
    print('conductor kill -9 during build: HEALTHY %.1f s after restart' % took)
    _check_data(address)
    _expect_usage(fstack, 1)
    _delete(fstack, iid)


def test_api_killed_right_after_create(fstack):
    iid = _create(fstack, 'api')
    _kill(fstack, 'api')
    time.sleep(1)
    back = time.time()
    fstack.start_daemon('api')
    fstack.wait_api()
    took, address = _healthy(fstack, iid, back)
    assert took < RECOVERY_BOUND
    print('api kill -9 right after create: HEALTHY %.1f s after restart' % took)
    _check_data(address)
    _expect_usage(fstack, 1)
    _delete(fstack, iid)


def test_taskmanager_killed_during_resize_keeps_quota_exact(fstack):
    iid = _create(fstack, 'resize')
    _healthy(fstack, iid, time.time())
    code, body = fstack.request('POST', '/instances/%s/action' % iid,
                                {'resize': {'flavorRef': '3'}})
    assert code == 202, body
    time.sleep(0.3)
    _kill(fstack, 'taskmanager')
    back = time.time()
    fstack.start_daemon('taskmanager')
    body = fstack.wait_instance(iid, lambda c, b: b['instance']['status'] != 'RESIZE',
                                timeout=RECOVERY_BOUND + 60)
    took = time.time() - back
    inst = body['instance']
    assert inst['status'] == 'ACTIVE' and inst['flavor']['id'] == '3', inst
    assert took < RECOVERY_BOUND
    print('taskmanager kill -9 during resize: ACTIVE on the new flavor %.1f s after '
          'restart' % took)
    usage = _usage(fstack)
    assert usage['ram'] == (2048, 0) and usage['instances'] == (1, 0), usage
    _delete(fstack, iid)
    _expect_usage(fstack, 0)


def test_delete_during_resize_gives_all_quota_back(fstack):
    iid = _create(fstack, 'resize-del')
    _healthy(fstack, iid, time.time())
    code, _ = fstack.request('POST', '/instances/%s/action' % iid,
                             {'resize': {'flavorRef': '3'}})
    assert code == 202
    time.sleep(0.5)
    _delete(fstack, iid)
    time.sleep(2)    # let the resize flow end after the delete
    _expect_usage(fstack, 0)


@pytest.fixture
def rabbit():
    node = PrivateRabbit()
    try:
        yield node.start()
    finally:
        node.destroy()


def test_broker_restart_right_after_create(rabbit):
    st = Stack(usage_timeout=600, transport=rabbit.url)
    try:
        st.start()
        iid = _create(st, 'broker')
        time.sleep(0.3)
        rabbit.stop()
        time.sleep(2)
        rabbit.start()
        back = time.time()
        took, address = _healthy(st, iid, back)
        assert took < RECOVERY_BOUND, 'ACTIVE %.1fs after the broker restart' % took
        print('broker restart right after create: HEALTHY %.1f s after restart' % took)
        _check_data(address)
        _expect_usage(st, 1)
        _delete(st, iid)
        _expect_usage(st, 0)
        assert not os.listdir(os.path.join(st.base_dir, 'servers'))
    finally:
        st.stop()
