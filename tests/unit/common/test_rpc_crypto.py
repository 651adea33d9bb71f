"""Sealing of RPC entities with per-instance keys (trove.common.rpc_crypto)."""
import pytest
from cryptography.fernet import Fernet, InvalidToken

from trove.common import context as trove_context
from trove.common import rpc_crypto
from trove.common import states
from trove.conductor import manager as conductor_manager
from trove.conf import CONF
from trove.db import api as db_api
from trove.taskmanager import guest_files

NESTED = {'users': [{'name': 'u1', 'password': 's3cret-pw', 'databases': [{'name': 'd1'}]}],
          'limit': None, 'flags': [True, False], 'n': 3, 'ratio': 0.5,
          'deep': {'a': {'b': {'c': ['x', {'y': 'z'}]}}}}


def _peer(instance_id, key):
    return rpc_crypto.peer_serializer(rpc_crypto.fernet_for(key), instance_id)


def test_round_trip_of_nested_values():
    key = Fernet.generate_key()
    sender, receiver = _peer('a', key), _peer('a', key)
    wire = sender.serialize_entity(None, NESTED)
    assert rpc_crypto.is_sealed(wire) and wire['kid'] == 'a'
    assert 's3cret-pw' not in repr(wire)
    assert receiver.deserialize_entity(None, wire) == NESTED
    for value in (None, 'text', 7, [], {}):
        assert receiver.deserialize_entity(None, sender.serialize_entity(None, value)) == value


def test_message_for_guest_a_cannot_be_read_with_guest_b_key():
    key_a, key_b = Fernet.generate_key(), Fernet.generate_key()
    wire = _peer('a', key_a).serialize_entity(None, NESTED)
    with pytest.raises(InvalidToken):
        rpc_crypto.unseal(rpc_crypto.fernet_for(key_b), wire)
    # Guest B's agent refuses it: the kid is not its own ...
    with pytest.raises(rpc_crypto.MessageRejected):
        _peer('b', key_b).deserialize_entity(None, wire)
    # ... and relabelling the envelope does not help either.
    with pytest.raises(rpc_crypto.MessageRejected):
        _peer('b', key_b).deserialize_entity(None, dict(wire, kid='b'))


@pytest.mark.parametrize('position', [0, 20, 60, -5])
def test_tampering_is_detected(position):
    key = Fernet.generate_key()
    wire = _peer('a', key).serialize_entity(None, NESTED)
    chars = list(wire['token'])
    chars[position] = 'A' if chars[position] != 'A' else 'B'
    bad = dict(wire, token=''.join(chars))
    assert bad['token'] != wire['token']
    with pytest.raises(InvalidToken):
        rpc_crypto.unseal(rpc_crypto.fernet_for(key), bad)
    with pytest.raises(rpc_crypto.MessageRejected):
        _peer('a', key).deserialize_entity(None, bad)
    with pytest.raises(rpc_crypto.MessageRejected):
        _peer('a', key).deserialize_entity(None, dict(wire, token=12))


def test_clear_message_refused_where_a_key_exists():
    with pytest.raises(rpc_crypto.MessageRejected):
        _peer('a', Fernet.generate_key()).deserialize_entity(None, {'password': 'x'})


def test_passphrase_and_fernet_keys():
    key = Fernet.generate_key()
    token = rpc_crypto.fernet_for(key).encrypt(b'x')
    assert Fernet(key).decrypt(token) == b'x'
    phrase = rpc_crypto.fernet_for('not a fernet key')
    assert phrase.decrypt(rpc_crypto.fernet_for('not a fernet key').encrypt(b'y')) == b'y'
    with pytest.raises(InvalidToken):
        rpc_crypto.fernet_for('another phrase').decrypt(phrase.encrypt(b'y'))


def test_instance_key_is_stored_encrypted_with_the_master_key():
    encrypted = rpc_crypto.new_encrypted_instance_key()
    plain = rpc_crypto.decrypt_instance_key(encrypted)
    assert len(encrypted) <= 255 and plain not in encrypted
    Fernet(plain.encode())  # a valid Fernet key
    CONF.set_override('inst_rpc_key_encr_key', 'another master key')
    try:
        with pytest.raises(InvalidToken):
            rpc_crypto.decrypt_instance_key(encrypted)
    finally:
        CONF.clear_override('inst_rpc_key_encr_key')


def _instance(key=True):
    return db_api.create_instance(dict(
        name='a', tenant_id='t', flavor_id='1',
        encrypted_key=rpc_crypto.new_encrypted_instance_key() if key else None))


def test_guest_api_and_guest_share_the_key_written_to_guest_info(db):
    inst = _instance()
    info = guest_files.guest_info(inst, '10.11', 'mariadb')
    plain = rpc_crypto.decrypt_instance_key(inst.encrypted_key)
    assert 'instance_rpc_encr_key = %s\n' % plain in info
    assert inst.encrypted_key not in info
    api_side = rpc_crypto.guest_api_serializer(inst.id)
    CONF.set_override('instance_rpc_encr_key', plain)
    CONF.set_override('guest_id', inst.id)
    try:
        guest_side = rpc_crypto.guest_serializer()
    finally:
        CONF.clear_override('instance_rpc_encr_key')
        CONF.clear_override('guest_id')
    wire = api_side.serialize_entity(None, NESTED)
    assert guest_side.deserialize_entity(None, wire) == NESTED
    assert api_side.deserialize_entity(None, guest_side.serialize_entity(None, [1])) == [1]


def test_keyless_instance_talks_in_clear(db):
    inst = _instance(key=False)
    assert rpc_crypto.guest_api_serializer(inst.id) is None
    assert 'instance_rpc_encr_key' not in guest_files.guest_info(inst, '10.11', 'mariadb')
    assert rpc_crypto.guest_serializer() is None  # no key in this process's config


def _conductor_receive(sender_kid, sender_key, **kwargs):
    """Deserialize kwargs as the conductor's server does; returns (ctxt, args)."""
    ctxt = trove_context.admin_context()
    des = rpc_crypto.conductor_serializer()
    if sender_key is None:
        return ctxt, {k: des.deserialize_entity(ctxt, v) for k, v in kwargs.items()}
    ser = _peer(sender_kid, sender_key)
    return ctxt, {k: des.deserialize_entity(ctxt, ser.serialize_entity(ctxt, v))
                  for k, v in kwargs.items()}


def _status(instance_id):
    return states.ServiceStatus.from_code(db_api.get_service_status(instance_id).status_id)


def _key(inst):
    return rpc_crypto.decrypt_instance_key(inst.encrypted_key)


def test_conductor_opens_by_kid_and_checks_the_sender(db):
    a, b, legacy = _instance(), _instance(), _instance(key=False)
    mgr = conductor_manager.Manager()
    beat = {'payload': {'service_status': 'healthy'}, 'sent': 1.0}
    # A about itself: accepted.
    ctxt, args = _conductor_receive(a.id, _key(a), instance_id=a.id, **beat)
    mgr.heartbeat(ctxt, **args)
    assert _status(a.id) == states.ServiceStatus.HEALTHY
    # A (with its own valid key) speaking about B: dropped.
    ctxt, args = _conductor_receive(a.id, _key(a), instance_id=b.id, **beat)
    mgr.heartbeat(ctxt, **args)
    mgr.notify_exc_info(ctxt, b.id, 'forged', sent=2.0)
    assert _status(b.id) == states.ServiceStatus.NEW
    assert db_api.get_fault(b.id) is None
    # A claiming to be B but holding only A's key: does not decrypt.
    with pytest.raises(rpc_crypto.MessageRejected):
        _conductor_receive(b.id, _key(a), instance_id=b.id, **beat)
    # Clear heartbeat about a keyed instance: dropped; about a keyless one: kept.
    ctxt, args = _conductor_receive(None, None, instance_id=b.id, **beat)
    mgr.heartbeat(ctxt, **args)
    assert _status(b.id) == states.ServiceStatus.NEW
    ctxt, args = _conductor_receive(None, None, instance_id=legacy.id, **beat)
    mgr.heartbeat(ctxt, **args)
    assert _status(legacy.id) == states.ServiceStatus.HEALTHY


def test_unknown_kid_rejected_by_conductor(db):
    with pytest.raises(rpc_crypto.MessageRejected):
        _conductor_receive('no-such-instance', Fernet.generate_key(), instance_id='x')


def test_taskmanager_hop(monkeypatch):
    ser = rpc_crypto.taskmanager_serializer()
    wire = ser.serialize_entity(None, NESTED)
    assert wire['kid'] == 'taskmanager' and 's3cret-pw' not in repr(wire)
    assert rpc_crypto.taskmanager_serializer().deserialize_entity(None, wire) == NESTED
    CONF.set_override('enable_secure_rpc_messaging', False)
    try:
        assert rpc_crypto.taskmanager_serializer() is None
    finally:
        CONF.clear_override('enable_secure_rpc_messaging')


def test_keys_are_secret_options():
    for name in ('inst_rpc_key_encr_key', 'taskmanager_rpc_encr_key', 'instance_rpc_encr_key'):
        assert CONF._get_opt_info(name)['opt'].secret


def test_context_is_sealed_so_calls_without_arguments_are_authenticated():
    from trove.common import rpc
    key = Fernet.generate_key()
    sender = rpc.ContextSerializer(_peer('a', key))
    receiver = rpc.ContextSerializer(_peer('a', key))
    ctxt = trove_context.TroveContext(project_id='proj-1', request_id='req-abc')
    wire = sender.serialize_context(ctxt)
    assert rpc_crypto.is_sealed(wire) and 'proj-1' not in repr(wire)
    back = receiver.deserialize_context(wire)
    assert back.project_id == 'proj-1' and back.request_id == 'req-abc'
    # A clear context (e.g. a forged argument-less stop_db) is refused.
    with pytest.raises(rpc_crypto.MessageRejected):
        receiver.deserialize_context(ctxt.to_dict())
    with pytest.raises(rpc_crypto.MessageRejected):
        rpc.ContextSerializer(_peer('a', Fernet.generate_key())).deserialize_context(wire)
    # Without a key the context stays a plain dict, as before.
    assert rpc.ContextSerializer().serialize_context(ctxt)['project_id'] == 'proj-1'


def test_preload_caches_the_live_instances_keys_in_one_query(db, monkeypatch):
    live, gone = _instance(), _instance()
    _instance(key=False)
    db_api.purge_instance(gone.id)
    rpc_crypto._KEYS.clear()
    assert rpc_crypto.preload_instance_keys() == 1
    assert list(rpc_crypto._KEYS) == [live.id]

    def no_lookup(_instance_id):
        raise AssertionError('looked up again')
    monkeypatch.setattr(rpc_crypto, '_load_encrypted_key', no_lookup)
    # The cached key opens what the guest seals with its own.
    ctxt, args = _conductor_receive(live.id, _key(live), payload={'x': 1})
    assert args == {'payload': {'x': 1}} and ctxt.rpc_sender == live.id
