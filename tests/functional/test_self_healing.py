"""Fault injection: kill -9 a guest agent or a database engine, expect healing.

Real daemons, real engines.  Each case writes a row (a key for Redis) first,
kills the process of the instance's own session by PID with SIGKILL, and
asserts the end state, its time bound and that the data is still there:

* engine killed (MariaDB, PostgreSQL, Redis): the agent restarts it and the
  instance is HEALTHY again within 10 s, the engine under a new pid;
* agent killed: its supervisor (the local driver's systemd stand-in) starts
  a new agent within seconds; the engine keeps running and database calls
  through the API answer again;
* engine killed again and again: after engine_restart_limit restarts the
  agent leaves it down, the instance shows SHUTDOWN with a fault, and a user
  restart brings it back with its data;
* agent killed again and again: after agent_restart_limit restarts the
  instance shows ERROR with a fault saying so, work for it is refused with
  422, and the admin reboot brings it back HEALTHY with its data.
"""
import json
import os
import signal
import time

import psycopg
import pymysql
import pytest
import redis

from tests.functional import helpers
from tests.functional.stack import engine_version

HEAL_BOUND = 10.0     # engine kill -> HEALTHY (issue 8, item 5)
AGENT_BOUND = 5.0     # agent kill -> a new agent runs
PROGRAMS = {'mariadb': ('mariadbd', 'mysqld'), 'postgresql': ('postgres',),
            'redis': ('redis-server',)}
PASSWORD = 's3cret-Pw'
RESTART_LIMIT = 2


@pytest.fixture(scope='module')
def stack():
    def configure(st):
        # Passed on to the guests in their derived trove-guestagent.conf.
        with open(st.conf, 'a') as f:
            f.write('[DEFAULT]\nengine_restart_limit = %d\n' % RESTART_LIMIT)

    with helpers.pg_redis_stack(configure=configure,
                                local_opts={'agent_restart_limit': RESTART_LIMIT}) as st:
        st.versions['mariadb'] = engine_version()
        yield st


def _create(stack, name, datastore):
    extra = [] if datastore == 'redis' else ['--databases', 'shop',
                                             '--users', 'alice:%s' % PASSWORD]
    created = stack.cli_json('database', 'instance', 'create', name, '--flavor', '2',
                             '--size', '1', '--datastore', datastore,
                             '--datastore-version', stack.versions[datastore], *extra)
    body = stack.wait_instance(created['id'], helpers.healthy_or_error)
    assert body['instance']['status'] == 'ACTIVE', body
    return created['id'], body['instance']['addresses'][0]['address']


def _delete(stack, instance_id):
    stack.cli('database', 'instance', 'delete', instance_id)
    stack.wait_instance(instance_id, helpers.gone, timeout=120)


def _stat(pid):
    """(argv0 program name, ppid) of a live pid."""
    with open('/proc/%d/cmdline' % pid, 'rb') as f:
        argv0 = f.read().split(b'\0', 1)[0].split()
    with open('/proc/%d/stat' % pid) as f:
        ppid = int(f.read().rsplit(')', 1)[1].split()[1])
    return (os.path.basename(argv0[0]).decode() if argv0 else ''), ppid


def engine_pids(stack, instance_id, datastore):
    """The engine's main processes in the instance's session (not its workers)."""
    _server_id, state = helpers.server_of(stack, instance_id)
    found = {}
    for pid in helpers.session_pids(state['sid']):
        try:
            found[pid] = _stat(pid)
        except (OSError, IndexError, ValueError):
            continue
    mains = [pid for pid, (prog, ppid) in found.items()
             if prog in PROGRAMS[datastore]
             and (ppid not in found or found[ppid][0] not in PROGRAMS[datastore])]
    return sorted(mains)


def engine_pid(stack, instance_id, datastore):
    """The one engine main process of the instance."""
    mains = engine_pids(stack, instance_id, datastore)
    assert len(mains) == 1, mains
    return mains[0]


def _status(stack, instance_id):
    code, body = stack.request('GET', '/instances/%s' % instance_id)
    assert code == 200, body
    return body['instance']['status'], body['instance']['operating_status']


def _wait(what, cond, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError('%s not within %ss' % (what, timeout))


def _write(datastore, address, root_password=None):
    if datastore == 'mariadb':
        with pymysql.connect(host=address, port=3306, user='alice', password=PASSWORD,
                             database='shop', connect_timeout=10, autocommit=True) as conn:
            with conn.cursor() as cur:
                cur.execute('CREATE TABLE items (id INT PRIMARY KEY, name TEXT) '
                            'ENGINE=InnoDB')
                cur.execute("INSERT INTO items VALUES (1, 'apple')")
    elif datastore == 'postgresql':
        with psycopg.connect(host=address, port=5432, user='alice', password=PASSWORD,
                             dbname='shop', connect_timeout=10, autocommit=True) as conn:
            conn.execute('CREATE TABLE items (id INT PRIMARY KEY, name TEXT)')
            conn.execute("INSERT INTO items VALUES (1, 'apple')")
    else:
        cli = redis.Redis(host=address, port=6379, password=root_password, socket_timeout=10)
        cli.set('fruit', 'apple')
        cli.close()
        # appendfsync everysec: Redis promises writes older than a second.
        time.sleep(1.5)


def _read(datastore, address, root_password=None):
    if datastore == 'mariadb':
        with pymysql.connect(host=address, port=3306, user='alice', password=PASSWORD,
                             database='shop', connect_timeout=10) as conn:
            with conn.cursor() as cur:
                cur.execute('SELECT name FROM items WHERE id = 1')
                return cur.fetchone()[0]
    if datastore == 'postgresql':
        with psycopg.connect(host=address, port=5432, user='alice', password=PASSWORD,
                             dbname='shop', connect_timeout=10) as conn:
            return conn.execute('SELECT name FROM items WHERE id = 1').fetchone()[0]
    cli = redis.Redis(host=address, port=6379, password=root_password, socket_timeout=10)
    try:
        return cli.get('fruit').decode()
    finally:
        cli.close()


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _new_agent(status_file, old):
    """Pid of a running agent other than ``old``, per the supervisor's status."""
    data = _read_json(status_file) or {}
    pid = data.get('agent_pid')
    return data.get('state') == 'running' and pid not in (None, old) and pid


def _guest_log(stack, instance_id):
    server_id, _state = helpers.server_of(stack, instance_id)
    path = os.path.join(stack.base_dir, 'servers', server_id, 'var', 'log',
                        'guestagent.log')
    with open(path, errors='replace') as f:
        return f.read()


@pytest.mark.parametrize('datastore', ['mariadb', 'postgresql', 'redis'])
def test_killed_engine_is_healed_with_its_data(stack, datastore):
    instance_id, address = _create(stack, 'ft-heal-%s' % datastore, datastore)
    try:
        root = None
        if datastore == 'redis':
            root = stack.cli_json('database', 'root', 'enable', instance_id)['password']
        _write(datastore, address, root)
        old = engine_pid(stack, instance_id, datastore)
        before = set(helpers.session_pids(helpers.server_of(stack, instance_id)[1]['sid']))
        killed = time.monotonic()
        os.kill(old, signal.SIGKILL)
        seen = set()

        def healed():
            # Until the guest's watch notices the kill (up to a second) the
            # status is still the HEALTHY of before it, and a killed
            # postmaster's workers, reparented, look like main processes for
            # a moment.  Healed is HEALTHY with an engine process started
            # after the kill that the watch has seen answer (its line comes
            # a moment after the heartbeat thread may have reported HEALTHY).
            status = _status(stack, instance_id)
            seen.add(status[1])
            return (status == ('ACTIVE', 'HEALTHY')
                    and bool(set(engine_pids(stack, instance_id, datastore)) - before)
                    and 'back after a crash' in _guest_log(stack, instance_id))

        _wait('HEALTHY after the engine kill', healed, HEAL_BOUND + 5)
        elapsed = time.monotonic() - killed
        print('%s: engine kill -> HEALTHY in %.1fs (seen %s)' % (datastore, elapsed, seen))
        assert elapsed < HEAL_BOUND
        assert _read(datastore, address, root) == 'apple'
        log = _guest_log(stack, instance_id)
        if os.environ.get('HEAL_DEBUG'):
            print('\n'.join(line[:400] for line in log.splitlines()
                            if 'DEBUG' not in line)[-5000:])
        assert 'although the agent did not stop it' in log
    finally:
        _delete(stack, instance_id)


def test_killed_agent_is_restarted_engine_and_data_kept(stack):
    instance_id, address = _create(stack, 'ft-heal-agent', 'mariadb')
    try:
        _write('mariadb', address)
        server_id, state = helpers.server_of(stack, instance_id)
        status_file = os.path.join(stack.base_dir, 'servers', server_id, 'var',
                                   'supervisor.json')
        agent = _read_json(status_file)['agent_pid']
        assert agent in helpers.session_pids(state['sid'])
        engine = engine_pid(stack, instance_id, 'mariadb')
        killed = time.monotonic()
        os.kill(agent, signal.SIGKILL)

        _wait('a new agent', lambda: _new_agent(status_file, agent), AGENT_BOUND)
        back = time.monotonic() - killed

        def answers():
            code, _body = stack.request('GET', '/instances/%s/databases' % instance_id)
            return code == 200

        _wait('database calls answered by the new agent', answers, 20, interval=0.3)
        answered = time.monotonic() - killed
        print('agent kill -> new agent in %.1fs, API database call in %.1fs'
              % (back, answered))
        assert back < AGENT_BOUND
        assert _status(stack, instance_id) == ('ACTIVE', 'HEALTHY')
        # The engine was not touched: same process, same data.
        assert engine_pid(stack, instance_id, 'mariadb') == engine
        assert _read('mariadb', address) == 'apple'
    finally:
        _delete(stack, instance_id)


def test_agent_dying_again_and_again_is_visible_and_reboot_repairs(stack):
    instance_id, address = _create(stack, 'ft-heal-loop', 'mariadb')
    try:
        _write('mariadb', address)
        server_id, _state = helpers.server_of(stack, instance_id)
        status_file = os.path.join(stack.base_dir, 'servers', server_id, 'var',
                                   'supervisor.json')
        agent = _read_json(status_file)['agent_pid']
        for _ in range(RESTART_LIMIT):
            os.kill(agent, signal.SIGKILL)
            agent = _wait('a new agent', lambda old=agent: _new_agent(status_file, old), 20)
        killed = time.monotonic()
        os.kill(agent, signal.SIGKILL)  # one death too many

        def flagged():
            code, body = stack.request('GET', '/instances/%s' % instance_id)
            return body['instance']['status'] == 'ERROR' and body['instance']

        inst = _wait('the instance in ERROR', flagged, 15, interval=0.3)
        print('repeated agent deaths -> instance ERROR in %.1fs'
              % (time.monotonic() - killed))
        assert 'keeps dying' in inst['fault']['message']
        assert 'died %d times' % (RESTART_LIMIT + 1) in inst['fault']['message']
        assert _read_json(status_file)['state'] == 'failed'
        code, body = stack.request('POST', '/instances/%s/action' % instance_id,
                                   {'restart': {}})
        assert code == 422, body
        # The engine still runs without its agent; the reboot is the repair.
        code, body = stack.request('POST', '/mgmt/instances/%s/action' % instance_id,
                                   {'reboot': {}})
        assert code == 202, body
        rebooted = time.monotonic()
        stack.wait_instance(instance_id, lambda c, b: b['instance']['status'] == 'ACTIVE'
                            and b['instance']['operating_status'] == 'HEALTHY', timeout=120)
        print('admin reboot -> HEALTHY in %.1fs' % (time.monotonic() - rebooted))
        assert _read_json(status_file)['state'] == 'running'
        assert _read('mariadb', address) == 'apple'
    finally:
        _delete(stack, instance_id)


def test_engine_crashing_again_and_again_is_left_down_visibly(stack):
    instance_id, address = _create(stack, 'ft-heal-crashloop', 'mariadb')
    try:
        _write('mariadb', address)
        for n in range(1, RESTART_LIMIT + 1):
            old = engine_pid(stack, instance_id, 'mariadb')
            os.kill(old, signal.SIGKILL)
            # Healthy with a new engine, and the watch done with its restart:
            # a kill while its start is still finishing is a failed start it
            # retries, not the next crash this test is about.
            _wait('the engine restarted', lambda old=old, n=n: _status(stack, instance_id) == (
                'ACTIVE', 'HEALTHY') and engine_pids(stack, instance_id, 'mariadb')
                not in ([], [old]) and '(%d automatic restarts so far)' % n
                in _guest_log(stack, instance_id), 30)
        os.kill(engine_pid(stack, instance_id, 'mariadb'), signal.SIGKILL)

        def given_up():
            code, body = stack.request('GET', '/instances/%s' % instance_id)
            inst = body['instance']
            return (inst['operating_status'] == 'SHUTDOWN'
                    and 'not restarted automatically' in inst.get('fault', {}).get(
                        'message', '') and inst)

        inst = _wait('the give-up fault', given_up, 15, interval=0.3)
        assert 'went down %d times' % (RESTART_LIMIT + 1) in inst['fault']['message']
        time.sleep(3)  # well past the backoff: it really stays down
        assert engine_pids(stack, instance_id, 'mariadb') == []
        assert _status(stack, instance_id)[1] == 'SHUTDOWN'
        assert 'not restarted automatically' in _guest_log(stack, instance_id)
        # The user's restart is the repair, and re-arms the healing.
        code, body = stack.request('POST', '/instances/%s/action' % instance_id,
                                   {'restart': {}})
        assert code == 202, body
        stack.wait_instance(instance_id, lambda c, b: b['instance']['status'] == 'ACTIVE'
                            and b['instance']['operating_status'] == 'HEALTHY', timeout=120)
        assert _read('mariadb', address) == 'apple'
    finally:
        _delete(stack, instance_id)
