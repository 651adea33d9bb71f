"""Helpers shared by the functional tests: engine versions on this machine,
stacks with PostgreSQL/Redis or with mute guests, and process checks."""
import contextlib
import json
import os
import subprocess
import time

import pytest

from tests.functional.stack import Stack, free_port
from trove.guestagent.engines import process
from trove.guestagent.engines.postgresql import app as pg_app


def with_store(st, extra=''):
    """Point a not yet started Stack's local backup store at ``<dir>/backups`` (``st.store``)."""
    st.store = os.path.join(st.dir, 'backups')
    with open(st.conf, 'a') as f:
        f.write('[backup]\nlocal_store_path = %s\n%s' % (st.store, extra))


@contextlib.contextmanager
def store_stack(extra=''):
    """A started Stack with its backup store under its own directory."""
    st = Stack()
    with_store(st, extra)
    try:
        yield st.start()
    finally:
        st.stop()


def ready(st, instance_id, timeout=400):
    """The instance once its build ended, asserted ACTIVE (HEALTHY)."""
    body = st.wait_instance(instance_id, healthy_or_error, timeout=timeout)
    inst = body['instance']
    assert inst['status'] == 'ACTIVE', inst
    return inst


def eventually(fn, expected, timeout=30, errors=(Exception,)):
    """Seconds until ``fn()`` returns ``expected`` (an error in ``errors``
    counts as not yet); AssertionError with the last value after ``timeout``."""
    start = time.time()
    value = None
    while time.time() - start < timeout:
        try:
            value = fn()
        except errors as exc:
            value = exc
        if value == expected:
            return time.time() - start
        time.sleep(0.5)
    raise AssertionError('got %r, expected %r' % (value, expected))


def mariadb_sql(inst, user, password, sql, args=None, database='shop'):
    """Run one statement on an instance's MariaDB as ``user``; its rows."""
    import pymysql
    conn = pymysql.connect(host=inst['addresses'][0]['address'], port=3306, user=user,
                           password=password, database=database, connect_timeout=10)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            conn.commit()
            return cur.fetchall()
    finally:
        conn.close()


def healthy_or_error(code, body):
    """wait_instance condition: the build ended, well or badly."""
    inst = body['instance'] if code == 200 else {}
    return inst.get('status') == 'ERROR' or inst.get('operating_status') == 'HEALTHY'


def poll_until(fetch, done, timeout, what='the condition'):
    """``fetch()``'s first result that ``done`` accepts, polled every second
    for ``timeout`` s."""
    deadline = time.time() + timeout
    value = None
    while time.time() < deadline:
        value = fetch()
        if done(value):
            return value
        time.sleep(1)
    raise AssertionError('%s: timed out after %ds; last %r' % (what, timeout, value))


def gone(code, _body):
    """wait_instance condition: the instance no longer exists."""
    return code == 404


def session_pids(sid):
    """Pids of the live processes in session ``sid``.

    Zombies are dead: an engine's child reparented to init when its parent
    was killed may wait a moment there to be reaped, and is not counted.
    """
    pids = []
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                if os.getsid(int(name)) == sid and _state(int(name)) not in ('Z', 'X'):
                    pids.append(int(name))
            except (ProcessLookupError, FileNotFoundError):
                pass
    return pids


def _state(pid):
    """The one-letter state of ``pid`` from /proc (after the command name)."""
    with open('/proc/%d/stat' % pid) as f:
        data = f.read()
    return data[data.rfind(')') + 2:].split()[0]


def server_state(stack, server_id):
    """The local compute driver's state.json of one server."""
    with open(os.path.join(stack.base_dir, 'servers', server_id, 'state.json')) as f:
        return json.load(f)


def server_of(stack, instance_id):
    """``(server id, state.json)`` of the local server of ``instance_id``."""
    for server_id in stack.local_servers():
        state = server_state(stack, server_id)
        if state['metadata'].get('trove_instance_id') == instance_id:
            return server_id, state
    raise AssertionError('no server for %s' % instance_id)


def agent_pid(stack, instance_id):
    """The pid of the instance's guest agent (its supervisor's record)."""
    server_id, _state = server_of(stack, instance_id)
    path = os.path.join(stack.base_dir, 'servers', server_id, 'var', 'supervisor.json')
    with open(path) as f:
        return json.load(f)['agent_pid']


def ready_spare(stack, exclude=(), timeout=180, manager='mariadb'):
    """Id of a spare of ``manager`` whose engine is up (marker written), not in ``exclude``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for server_id in stack.local_servers():
            try:
                st = server_state(stack, server_id)
            except (OSError, ValueError):
                continue  # being created or deleted
            marker = os.path.join(stack.base_dir, 'servers', server_id, 'var', 'spare.ready')
            if (server_id not in exclude and os.path.exists(marker)
                    and st.get('metadata', {}).get('trove_spare') == manager):
                return server_id
        time.sleep(0.2)
    raise AssertionError('no ready spare; logs in %s' % stack.dir)


def pg_version():
    """The newest installed PostgreSQL version (Debian layout), or None."""
    dirs = pg_app.bin_dirs()
    return os.path.basename(os.path.dirname(dirs[0])) if dirs else None


def redis_version():
    """'major.minor' of the installed redis-server, or None."""
    binary = process.find_binary('redis-server')
    if not binary:
        return None
    out = subprocess.run([binary, '--version'], capture_output=True, text=True).stdout
    for word in out.split():
        if word.startswith('v='):
            return '.'.join(word[2:].split('.')[:2])
    return None


@contextlib.contextmanager
def pg_redis_stack(configure=None, local_opts=None, usage_timeout=300):
    """A started Stack with PostgreSQL and Redis datastore versions (skips
    when either engine is missing); ``configure(stack)`` runs before start.
    The stack's ``versions`` maps datastore to version."""
    pg, rd = pg_version(), redis_version()
    if not pg or not rd:
        pytest.skip('PostgreSQL or redis-server binaries are missing')
    st = Stack(local_opts=local_opts, usage_timeout=usage_timeout)
    if configure:
        configure(st)
    try:
        st.start(datastore_versions=[('postgresql', pg, 'postgresql'),
                                     ('redis', rd, 'redis')])
        st.versions = {'postgresql': pg, 'redis': rd}
        yield st
    finally:
        st.stop()


@contextlib.contextmanager
def mute_guest_stack(usage_timeout, tenant):
    """A started Stack whose guests are told a broker address where nothing
    listens, as if the guest network were broken: they never report."""
    st = Stack(usage_timeout=usage_timeout, tenant=tenant,
               guest_config='[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:%d/\n'
               % free_port())
    try:
        st.start()
        yield st
    finally:
        st.stop()
