"""Authenticated encryption of RPC messages (Fernet: AES-128-CBC + HMAC-SHA256).

Keys
  * Every instance gets its own random Fernet key when the API creates it.
    The database keeps it only encrypted with the controller master key
    ``inst_rpc_key_encr_key`` (instances.encrypted_key); the taskmanager writes
    the plain key into that one guest's guest_info.conf
    (``instance_rpc_encr_key``).  A guest therefore holds its own key and no
    other, and cannot read or forge another guest's messages.
  * API -> taskmanager messages use the static ``taskmanager_rpc_encr_key``.

Wire format
  oslo.messaging hands a serializer every argument and every return value
  separately.  :class:`SecureSerializer` replaces each of them by an envelope
  ``{"trove_sealed": 1, "kid": <key id>, "token": <Fernet token>}``, where the
  token is the JSON of the value and ``kid`` names the key: the instance id
  for guest traffic, ``taskmanager`` for the taskmanager hop.  The context
  dict is sealed the same way (rpc.ContextSerializer hands it over), so
  every message, even a call without arguments, is authenticated.  Remote
  exceptions are not entities and travel in clear; trove exceptions carry no
  secrets.  Fernet tokens carry their creation time but we set no TTL: a
  prepare cast may wait in its queue until the guest boots.

Which key opens a message
  * Guest topic (``guestagent.<id>``): both ends know the key (the guest from
    its config, the control plane from the database via :func:`instance_key`)
    and accept only envelopes with their own ``kid``; anything in clear or
    under another kid is rejected (:class:`MessageRejected`: logged, and the
    caller of a call gets an error back).
  * Conductor topic (shared by all guests): the conductor learns the key
    from the envelope's ``kid`` (the guest's instance id) and looks it up in
    the database.  A guest could put its own kid on a message about another
    instance, so the deserializer records the kid that opened the message on
    the context and the conductor endpoints call :func:`check_sender` to
    demand that it matches the ``instance_id`` the message is about.

Upgrades
  An instance whose encrypted_key is NULL (created before this existed or
  while ``enable_secure_rpc_messaging`` was off) has no key: the control plane
  talks to it in clear and the conductor accepts its clear messages, but a
  clear message about an instance that *has* a key is dropped.  The switch
  only decides whether new instances get a key (and whether the taskmanager
  hop is sealed); an instance that has a key always uses it, because its
  guest rejects clear messages.
"""
import base64
import collections
import hashlib
import threading

import oslo_messaging as messaging
from cryptography.fernet import Fernet, InvalidToken
from oslo_log import log as logging
from oslo_serialization import jsonutils

from trove.conf import CONF
from trove.conf import security

LOG = logging.getLogger(__name__)

SEALED = 'trove_sealed'
TASKMANAGER_KID = 'taskmanager'


class MessageRejected(Exception):
    """A message (or reply) that is not sealed with the key it must have."""


def fernet_for(secret):
    """Fernet of ``secret``: a Fernet key is used as is, any other string hashed."""
    if isinstance(secret, str):
        secret = secret.encode()
    try:
        return Fernet(secret)
    except ValueError:
        # Operators write passphrases in config files, not base64 keys.
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret).digest()))


_warned_default = False


def _master():
    global _warned_default
    if CONF.inst_rpc_key_encr_key == security.DEFAULT_MASTER_KEY and not _warned_default:
        _warned_default = True
        LOG.warning('inst_rpc_key_encr_key has its public default value; set a '
                    'private one in trove.conf to protect the instance RPC keys.')
    return fernet_for(CONF.inst_rpc_key_encr_key)


def master_fernet():
    """Fernet of the controller master key, for secrets the database keeps."""
    return _master()


def new_encrypted_instance_key():
    """A fresh instance key encrypted with the master key (for instances.encrypted_key)."""
    return _master().encrypt(Fernet.generate_key()).decode()


def decrypt_instance_key(encrypted_key):
    """The plain instance key (a Fernet key, str) of ``encrypted_key``."""
    return _master().decrypt(encrypted_key.encode()).decode()


def seal(fernet, kid, entity):
    """Envelope of ``entity`` (JSON-able) encrypted and signed with ``fernet``."""
    token = fernet.encrypt(jsonutils.dump_as_bytes(entity))
    return {SEALED: 1, 'kid': kid, 'token': token.decode()}


def is_sealed(entity):
    """Whether ``entity`` is an envelope made by :func:`seal`."""
    return isinstance(entity, dict) and entity.get(SEALED) == 1 and 'token' in entity


def unseal(fernet, envelope):
    """The entity inside ``envelope``; raises InvalidToken for a wrong key or tampering."""
    token = envelope['token']
    if not isinstance(token, str):
        raise InvalidToken()
    return jsonutils.loads(fernet.decrypt(token.encode()))


class SecureSerializer(messaging.Serializer):
    """Seals outgoing entities with one key and opens incoming ones by kid.

    ``fernet``/``kid`` seal what this side sends (None: send in clear);
    ``lookup(kid)`` returns the Fernet that opens an envelope or None to
    reject it; ``require_sealed`` rejects clear entities; ``record_sender``
    notes the kid on the context for :func:`check_sender`.
    """

    def __init__(self, fernet=None, kid=None, lookup=None, require_sealed=False,
                 record_sender=False, base=None):
        self._fernet = fernet
        self._kid = kid
        self._lookup = lookup or (lambda kid: None)
        self._require = require_sealed
        self._record = record_sender
        self._base = base or messaging.NoOpSerializer()

    def serialize_entity(self, ctxt, entity):
        entity = self._base.serialize_entity(ctxt, entity)
        if self._fernet is None:
            return entity
        return seal(self._fernet, self._kid, entity)

    def deserialize_entity(self, ctxt, entity):
        entity, kid = self._open(entity)
        if kid is not None and self._record:
            sender = getattr(ctxt, 'rpc_sender', None)
            if sender not in (None, kid):
                raise MessageRejected('message mixes keys of %s and %s' % (sender, kid))
            ctxt.rpc_sender = kid
        return self._base.deserialize_entity(ctxt, entity)

    def serialize_context(self, ctxt):
        ctxt = self._base.serialize_context(ctxt)
        if self._fernet is None:
            return ctxt
        return seal(self._fernet, self._kid, ctxt)

    def deserialize_context(self, ctxt):
        return self._base.deserialize_context(self._open(ctxt)[0])

    def _open(self, value):
        """(plain value, kid that opened it or None for a clear one)."""
        if not is_sealed(value):
            if self._require:
                LOG.warning('Rejected a clear RPC message where a sealed one is '
                            'required (key id %s)', self._kid)
                raise MessageRejected('clear message refused')
            return value, None
        return self._unseal(value)

    def _unseal(self, envelope):
        kid = envelope.get('kid')
        fernet = self._lookup(kid) if isinstance(kid, str) else None
        if fernet is None:
            LOG.warning('Rejected an RPC message sealed with unknown key id %r', kid)
            raise MessageRejected('unknown key id')
        try:
            entity = unseal(fernet, envelope)
        except (InvalidToken, ValueError):
            LOG.warning('Rejected an RPC message that does not decrypt with the key '
                        'of %s (wrong key or tampered)', kid)
            raise MessageRejected('message does not decrypt') from None
        return entity, kid


# -- instance keys on the control plane --------------------------------------
# Least recently used keys go first; sized for a conductor serving tens of
# thousands of guests (a Fernet is ~200 bytes).  Wiping the whole cache when
# it filled made every guest's next message a database read and a decryption.
_KEYS = collections.OrderedDict()
_KEYS_LOCK = threading.Lock()
_KEYS_MAX = 65536


def _load_encrypted_key(instance_id):
    # Imported here: guests use this module and never reach the database.
    from sqlalchemy import select

    from trove.db import models
    from trove.db.session import reader
    with reader() as session:
        return session.scalar(select(models.Instance.encrypted_key)
                              .where(models.Instance.id == instance_id))


def instance_key(instance_id):
    """Fernet of the instance (control plane only), or None for a keyless instance.

    Keys never change, so found ones are cached; a missing key is looked up
    again next time (the row may not exist yet).
    """
    with _KEYS_LOCK:
        fernet = _KEYS.get(instance_id)
        if fernet is not None:
            _KEYS.move_to_end(instance_id)
            return fernet
    encrypted = _load_encrypted_key(instance_id)
    if not encrypted:
        return None
    fernet = fernet_for(decrypt_instance_key(encrypted))
    with _KEYS_LOCK:
        _KEYS[instance_id] = fernet
        while len(_KEYS) > _KEYS_MAX:
            _KEYS.popitem(last=False)
    return fernet


def preload_instance_keys():
    """Cache the keys of the live instances, read in one query; returns how many.

    The conductor calls this at start: else the first heartbeat of each of
    its guests costs a database transaction of its own (on MariaDB often a
    new pooled connection too, as the executor threads ask at once) and a
    restarted conductor with ten thousand guests spends tens of seconds of
    CPU on lookups while its heartbeats queue up.
    """
    from sqlalchemy import select

    from trove.db import models
    from trove.db.session import reader
    inst = models.Instance
    with reader() as session:
        rows = session.execute(select(inst.id, inst.encrypted_key).where(
            inst.encrypted_key.is_not(None), inst.deleted.is_(False)).limit(_KEYS_MAX)).all()
    master = _master()
    loaded = []
    for instance_id, encrypted in rows:
        try:
            loaded.append((instance_id, fernet_for(master.decrypt(encrypted.encode()).decode())))
        except (InvalidToken, ValueError):
            # Left to instance_key, which fails loudly when the guest talks.
            continue
    with _KEYS_LOCK:
        for instance_id, fernet in loaded:
            _KEYS.setdefault(instance_id, fernet)
        while len(_KEYS) > _KEYS_MAX:
            _KEYS.popitem(last=False)
    return len(loaded)


def peer_serializer(fernet, kid):
    """Both ends of a two-party hop: seal with ``fernet`` as ``kid``, accept only that."""
    return SecureSerializer(fernet=fernet, kid=kid, require_sealed=True,
                            lookup=lambda k: fernet if k == kid else None)


def guest_api_serializer(instance_id):
    """Serializer of the control plane's client of one guest (None: clear)."""
    fernet = instance_key(instance_id)
    return None if fernet is None else peer_serializer(fernet, instance_id)


def guest_serializer():
    """Serializer of the guest itself (server and conductor client), from its config."""
    if not CONF.instance_rpc_encr_key:
        return None
    return peer_serializer(fernet_for(CONF.instance_rpc_encr_key), CONF.guest_id)


def conductor_serializer():
    """Serializer of the conductor's server: opens each guest's envelope by its kid."""
    return SecureSerializer(lookup=instance_key, record_sender=True)


def check_sender(context, instance_id):
    """True when a conductor message may speak about ``instance_id``.

    It must have been sealed with that instance's key, unless the instance
    has none (clear talk of pre-existing instances).
    """
    sender = getattr(context, 'rpc_sender', None)
    if sender == instance_id:
        return True
    if sender is None and instance_key(instance_id) is None:
        return True
    LOG.warning('Dropped a conductor message about %s sealed by %s', instance_id,
                sender or 'nobody (clear)')
    return False


def taskmanager_serializer():
    """Serializer of both ends of the API -> taskmanager hop (None when disabled)."""
    if not CONF.enable_secure_rpc_messaging:
        return None
    return peer_serializer(fernet_for(CONF.taskmanager_rpc_encr_key), TASKMANAGER_KID)
