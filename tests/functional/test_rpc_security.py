"""Guest RPC on the real broker is sealed per instance (trove.common.rpc_crypto).

Two fake guest agents (child processes with their own guest_info.conf-style
config and key) serve ``guestagent.<A>`` and ``guestagent.<B>``.  The
control-plane side is the real GuestAPI, finding each key in a private SQLite
database.  An extra queue bound to the control exchange receives a copy of
every request, so the test reads the raw bytes the broker carried; replies
are read raw by sending a call whose reply queue the test owns.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import kombu
import oslo_messaging as messaging
import pytest
from cryptography.fernet import InvalidToken

from tests.functional.helpers import gone
from tests.functional.stack import TRANSPORT
from trove.common import context as trove_context
from trove.common import exception, rpc, rpc_crypto
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import migrate, session
from trove.guestagent.rpcapi import GuestAPI, guest_topic

PASSWORD = 'Pw-%s' % uuid.uuid4().hex
ROOT_PASSWORD = 'Root-%s' % uuid.uuid4().hex

FAKE_GUEST = '''
import json, signal, sys, threading
import oslo_messaging as messaging
from trove.conf import CONF
CONF(['--config-file', sys.argv[1]], project='trove')
from trove.common import rpc, rpc_crypto

class Guest:
    target = messaging.Target(version='1.2')

    def _record(self, method, **kwargs):
        with open(sys.argv[2], 'a') as f:
            f.write(json.dumps(dict(kwargs, method=method)) + '\\n')

    def create_user(self, context, users):
        self._record('create_user', users=users, project=context.project_id)

    def enable_root(self, context):
        self._record('enable_root')
        return {'name': 'root', 'password': sys.argv[3]}

stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
server = rpc.get_server('guestagent.' + CONF.guest_id, CONF.guest_id, [Guest()],
                        serializer=rpc_crypto.guest_serializer())
server.start()
open(sys.argv[2] + '.ready', 'w').close()
stop.wait()
server.stop()
server.wait()
rpc.cleanup()
'''


def _amqp_url():
    return TRANSPORT.replace('rabbit://', 'amqp://', 1)


class Guest:
    """A fake guest agent process serving one instance topic with its key."""

    def __init__(self, workdir, instance, exchange):
        self.id = instance.id
        self.key = rpc_crypto.decrypt_instance_key(instance.encrypted_key)
        self.record = os.path.join(workdir, 'guest-%s.jsonl' % self.id)
        conf = os.path.join(workdir, 'guest-%s.conf' % self.id)
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\ntransport_url = %s\ncontrol_exchange = %s\n'
                    'guest_id = %s\ninstance_rpc_encr_key = %s\n'
                    % (TRANSPORT, exchange, self.id, self.key))
        log = open(os.path.join(workdir, 'guest-%s.log' % self.id), 'w')
        self.proc = subprocess.Popen([sys.executable, '-c', FAKE_GUEST, conf, self.record,
                                      ROOT_PASSWORD], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 30
        while not os.path.exists(self.record + '.ready'):
            assert self.proc.poll() is None and time.time() < deadline, 'guest did not start'
            time.sleep(0.1)

    def calls(self):
        if not os.path.exists(self.record):
            return []
        with open(self.record) as f:
            return [json.loads(line) for line in f]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope='module')
def env():
    workdir = tempfile.mkdtemp(prefix='trove-ft-rpcsec-')
    exchange = 'trove-test-rpcsec-%s' % uuid.uuid4().hex[:8]
    CONF.set_override('transport_url', TRANSPORT)
    CONF.set_override('control_exchange', exchange)
    CONF.set_override('connection', 'sqlite:///%s/trove.sqlite' % workdir, group='database')
    rpc.cleanup()
    session.reset()
    guests = []
    conn = kombu.Connection(_amqp_url(), connect_timeout=5)
    try:
        migrate.upgrade()
        for name in ('a', 'b'):
            inst = db_api.create_instance(dict(
                name=name, tenant_id='t', flavor_id='1',
                encrypted_key=rpc_crypto.new_encrypted_instance_key()))
            guests.append(Guest(workdir, inst, exchange))
        channel = conn.channel()
        sniff = 'sniff-%s' % exchange
        channel.queue_declare(queue=sniff, exclusive=True, auto_delete=True)
        channel.queue_bind(queue=sniff, exchange=exchange, routing_key='#')
        yield dict(a=guests[0], b=guests[1], channel=channel, sniff=sniff, exchange=exchange)
    finally:
        for guest in guests:
            guest.stop()
        rpc.delete_queues([name for g in guests
                           for name in (guest_topic(g.id), '%s.%s' % (guest_topic(g.id), g.id))])
        try:
            conn.channel().exchange_delete(exchange)
        except Exception:
            pass
        conn.release()
        rpc.cleanup()
        session.reset()
        for name in ('transport_url', 'control_exchange'):
            CONF.clear_override(name)
        CONF.clear_override('connection', group='database')
        shutil.rmtree(workdir, ignore_errors=True)


def _drain(channel, queue, want=1, timeout=10):
    """Raw bodies (bytes) of the messages in ``queue``; waits for ``want`` of them."""
    bodies, deadline = [], time.time() + timeout
    while time.time() < deadline:
        msg = channel.basic_get(queue=queue, no_ack=True)
        if msg is None:
            if len(bodies) >= want:
                break
            time.sleep(0.1)
            continue
        bodies.append(msg.body if isinstance(msg.body, bytes) else msg.body.encode())
    return bodies


def _oslo_message(body):
    return json.loads(json.loads(body)['oslo.message'])


def test_request_to_guest_a_carries_no_plaintext_and_b_cannot_read_it(env):
    a, b = env['a'], env['b']
    _drain(env['channel'], env['sniff'], want=0, timeout=0.5)
    ctxt = trove_context.TroveContext(project_id='project-secret-name')
    users = [{'name': 'alice', 'password': PASSWORD, 'host': '%', 'databases': []}]
    GuestAPI(ctxt, a.id).create_user(users=users)
    # Guest A got the plain values ...
    (got,) = [c for c in a.calls() if c['method'] == 'create_user']
    assert got['users'] == users and got['project'] == 'project-secret-name'
    # ... while the broker carried only sealed envelopes.
    bodies = _drain(env['channel'], env['sniff'])
    assert bodies, 'the sniffing queue saw nothing'
    for body in bodies:
        assert PASSWORD.encode() not in body and b'alice' not in body
        assert b'project-secret-name' not in body
    msg = _oslo_message(bodies[0])
    sealed = msg['args']['users']
    assert sealed['kid'] == a.id
    with pytest.raises(InvalidToken):
        rpc_crypto.unseal(rpc_crypto.fernet_for(b.key), sealed)
    assert rpc_crypto.unseal(rpc_crypto.fernet_for(a.key), sealed) == users


def test_reply_is_sealed_on_the_wire(env):
    a, b = env['a'], env['b']
    assert GuestAPI(trove_context.admin_context(), a.id).enable_root()['password'] \
        == ROOT_PASSWORD
    # Send the same call by hand with a reply queue we own, to see the raw reply.
    channel, reply_q = env['channel'], 'reply-sniff-%s' % uuid.uuid4().hex
    channel.queue_declare(queue=reply_q, exclusive=True, auto_delete=True)
    peer = rpc_crypto.peer_serializer(rpc_crypto.fernet_for(a.key), a.id)
    msg = {'method': 'enable_root', 'args': {}, 'namespace': None, 'version': '1.1',
           '_msg_id': uuid.uuid4().hex, '_reply_q': reply_q, '_unique_id': uuid.uuid4().hex}
    for key, value in peer.serialize_context(trove_context.admin_context().to_dict()).items():
        msg['_context_' + key] = value
    with kombu.Connection(_amqp_url(), connect_timeout=5) as conn:
        producer = conn.Producer(exchange=kombu.Exchange(env['exchange'], type='topic',
                                                         passive=True))
        producer.publish({'oslo.version': '2.0', 'oslo.message': json.dumps(msg)},
                         routing_key='%s.%s' % (guest_topic(a.id), a.id))
    bodies = _drain(channel, reply_q)
    assert bodies and all(ROOT_PASSWORD.encode() not in body for body in bodies)
    results = [m['result'] for m in map(_oslo_message, bodies) if m.get('result')]
    assert results and results[0]['kid'] == a.id
    assert rpc_crypto.unseal(rpc_crypto.fernet_for(a.key), results[0])['password'] \
        == ROOT_PASSWORD
    with pytest.raises(InvalidToken):
        rpc_crypto.unseal(rpc_crypto.fernet_for(b.key), results[0])


@pytest.mark.parametrize('how', ['b-key-as-a', 'b-key-as-b', 'clear'])
def test_guest_a_rejects_what_is_not_sealed_with_its_key(env, how):
    a, b = env['a'], env['b']
    before = len(a.calls())
    serializer = {'b-key-as-a': rpc_crypto.peer_serializer(rpc_crypto.fernet_for(b.key), a.id),
                  'b-key-as-b': rpc_crypto.peer_serializer(rpc_crypto.fernet_for(b.key), b.id),
                  'clear': None}[how]
    client = rpc.get_client(guest_topic(a.id), '1.2', server=a.id, serializer=serializer,
                            timeout=15)
    with pytest.raises((messaging.RemoteError, messaging.MessagingTimeout,
                        rpc_crypto.MessageRejected, exception.TroveError)):
        client.prepare(version='1.1').call(trove_context.admin_context(), 'enable_root')
    assert len(a.calls()) == before, 'guest A ran a call not sealed with its key'
    # B still answers its own, correctly sealed, calls.
    assert GuestAPI(trove_context.admin_context(), b.id).enable_root()['password'] \
        == ROOT_PASSWORD


def _assert_not_logged(top, secrets):
    """No log or output file of the stack (daemons, guest, engine) holds a secret."""
    checked = 0
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            if name.endswith(('.log', '.out', '.err')):
                with open(os.path.join(dirpath, name), 'rb') as f:
                    data = f.read()
                checked += 1
                for secret in secrets:
                    assert secret.encode() not in data, 'secret in %s' % name
    assert checked >= 3


def test_real_instance_is_built_and_monitored_over_sealed_rpc(env):
    """A real stack and MariaDB guest: every hop on the broker is sealed."""
    from tests.functional.stack import Stack
    stack = Stack()
    try:
        stack.start()
        exchange = 'trove-test-%s' % stack.tag
        channel, sniff = env['channel'], 'sniff-%s' % exchange
        channel.queue_declare(queue=sniff, exclusive=True, auto_delete=True)
        channel.queue_bind(queue=sniff, exchange=exchange, routing_key='#')
        created = stack.cli_json('database', 'instance', 'create', 'sec-inst', '--flavor', '2',
                                 '--size', '1', '--datastore', 'mariadb',
                                 '--users', 'bob:%s' % PASSWORD)
        body = stack.wait_instance(created['id'], lambda c, b: c == 200 and (
            b['instance']['status'] == 'ERROR'
            or b['instance']['operating_status'] == 'HEALTHY'))
        assert body['instance']['status'] == 'ACTIVE', body
        assert 'encrypted_key' not in json.dumps(body)
        infos = glob.glob(os.path.join(stack.base_dir, 'servers', '*', 'root', 'etc', 'trove',
                                       'conf.d', 'guest_info.conf'))
        assert len(infos) == 1
        assert os.stat(infos[0]).st_mode & 0o077 == 0
        with open(infos[0]) as f:
            key = [line.split('=', 1)[1].strip() for line in f
                   if line.startswith('instance_rpc_encr_key')][0]
        messages = [(_oslo_message(b), b) for b in _drain(channel, sniff, want=3)]
        assert all(PASSWORD.encode() not in raw for _m, raw in messages)
        kinds = {m['method']: m for m, _raw in messages if 'method' in m}
        # API -> taskmanager (static key), taskmanager -> guest and guest ->
        # conductor (the instance key).
        assert kinds['create_instance']['args']['users']['kid'] == 'taskmanager'
        assert kinds['prepare']['args']['request']['kid'] == created['id']
        beat = kinds['heartbeat']['args']
        assert beat['payload']['kid'] == created['id']
        fernet = rpc_crypto.fernet_for(key)
        assert rpc_crypto.unseal(fernet, beat['instance_id']) == created['id']
        users = rpc_crypto.unseal(fernet, kinds['prepare']['args']['request'])['users']
        assert users[0]['password'] == PASSWORD
        stack.cli('database', 'instance', 'delete', created['id'])
        stack.wait_instance(created['id'], gone, timeout=120)
        _assert_not_logged(stack.dir, [key, PASSWORD])
    finally:
        stack.stop()
