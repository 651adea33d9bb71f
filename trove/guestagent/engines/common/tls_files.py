"""TLS material of an engine: opened from a PKCS#12 container, kept on disk.

The guest receives the user's container (and its password) sealed over RPC,
opens it here and keeps only the PEM files the engine reads, in
``<volume>/tls/current``, mode 0600 and owned by the engine user.  The
state before the last change sits in ``tls/previous`` with its mode, so a
rollback is a rename, never a second trip to the key manager.

The store sits on the data volume, not in the agent's state directory: a
rebuild or an upgrade gives the server a new root disk and keeps the volume,
so the new guest finds the certificate and mode there and re-applies them
at prepare (``EngineTls.restore``); no secret travels again.

Nothing here logs or repr()s a key, a password or the container.
"""
import dataclasses
import json
import os
import shutil

from oslo_log import log as logging

from trove.common import exception
from trove.guestagent.engines.common import files

LOG = logging.getLogger(__name__)

# cryptography's x509 and serialization modules are imported where they are
# used: most guests never see a certificate, and every agent's imports are on
# the critical path of its build (tens of ms each, times fifty builds).

MODES = ('basic', 'enforced', 'mtls')
KEY_FILE = 'server.key'
CERT_FILE = 'server.crt'
CA_FILE = 'ca.crt'
STATE_FILE = 'state.json'


@dataclasses.dataclass(frozen=True)
class TlsMaterial:
    """PEM key, certificate and CA chain of one server."""

    key_pem: str = dataclasses.field(repr=False)
    cert_pem: str
    ca_pem: str  # '' when the container holds no CA certificate

    @property
    def fingerprint(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        cert = x509.load_pem_x509_certificate(self.cert_pem.encode())
        return cert.fingerprint(hashes.SHA256()).hex()


def load_p12(payload: bytes, password: str | None = None) -> TlsMaterial:
    """Key, certificate and CA chain of a PKCS#12 container.

    BadRequest when it does not open (not a container, a password it needs
    but did not get, a wrong one) or lacks a key or certificate.
    """
    if isinstance(payload, str):
        payload = payload.encode('latin-1')
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    secret = password.encode() if password else None
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(payload, secret)
    except (ValueError, TypeError):
        # cryptography answers one ValueError for a bad container and a bad
        # or missing password: say both, and never echo what was sent.
        hint = ('a password is needed or it is not a PKCS#12 container'
                if secret is None else 'the password is wrong or it is not a PKCS#12 container')
        raise exception.BadRequest(detail='cannot open the certificate container: %s' % hint)
    if key is None or cert is None:
        raise exception.BadRequest(detail='the certificate container needs a private key '
                                   'and a certificate')
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    pem = serialization.Encoding.PEM
    return TlsMaterial(key_pem=key_pem, cert_pem=cert.public_bytes(pem).decode(),
                       ca_pem=''.join(c.public_bytes(pem).decode() for c in chain or ()))


def check_mode(mode):
    """A valid TLS mode (default basic), else BadRequest."""
    mode = mode or 'basic'
    if mode not in MODES:
        raise exception.BadRequest(detail='TLS mode must be one of %s' % ', '.join(MODES))
    return mode


def cert_info(cert_pem: str) -> dict:
    """Public facts about a certificate: subject, issuer, expiry, fingerprint."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    return {'subject': cert.subject.rfc4514_string(),
            'issuer': cert.issuer.rfc4514_string(),
            'not_after': cert.not_valid_after_utc.isoformat(),
            'fingerprint': cert.fingerprint(hashes.SHA256()).hex()}


class TlsStore:
    """The current and previous TLS state of one engine on disk.

    ``state.json`` is ``{"current": {"mode": ..}|null, "previous": ..}``
    where null is "TLS off" and a missing ``previous`` key is "nothing to
    roll back to"; the PEM files of each sit in the directory of that name.
    """

    def __init__(self, base_dir: str, owner: str):
        self.root = os.path.join(base_dir, 'tls')
        self.owner = owner

    def _dir(self, which):
        return os.path.join(self.root, which)

    def path(self, name, which='current'):
        return os.path.join(self._dir(which), name)

    def _state(self):
        try:
            with open(os.path.join(self.root, STATE_FILE)) as f:
                return json.load(f)
        except FileNotFoundError:
            return {'current': None}

    def _save(self, state):
        files.write_file(os.path.join(self.root, STATE_FILE), json.dumps(state))

    def current(self):
        """``{"mode": ..}`` of the TLS in force, or None when it is off."""
        return self._state().get('current')

    def has_previous(self):
        return 'previous' in self._state()

    def has_ca(self, which='current'):
        return os.path.exists(self.path(CA_FILE, which))

    def cert_pem(self):
        try:
            with open(self.path(CERT_FILE)) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def _ensure_root(self):
        files.engine_dirs([self.root], self.owner, private=[self.root])

    def _shift_current_to_previous(self):
        shutil.rmtree(self._dir('previous'), ignore_errors=True)
        if os.path.isdir(self._dir('current')):
            os.rename(self._dir('current'), self._dir('previous'))

    def stage(self, material: TlsMaterial, mode: str):
        """Make ``material`` in ``mode`` current; the old state becomes previous."""
        self._ensure_root()
        state = self._state()
        self._shift_current_to_previous()
        new = self._dir('current')
        files.engine_dirs([new], self.owner, private=[new])
        files.write_file(self.path(KEY_FILE), material.key_pem, mode=0o600, owner=self.owner)
        files.write_file(self.path(CERT_FILE), material.cert_pem, mode=0o600,
                         owner=self.owner)
        if material.ca_pem:
            files.write_file(self.path(CA_FILE), material.ca_pem, mode=0o600,
                             owner=self.owner)
        self._save({'current': {'mode': mode, 'fingerprint': material.fingerprint},
                    'previous': state.get('current')})

    def disable(self):
        """TLS off; the state it had becomes previous."""
        self._ensure_root()
        state = self._state()
        self._shift_current_to_previous()
        self._save({'current': None, 'previous': state.get('current')})

    def rollback(self):
        """Swap back to the previous state (once); BadRequest when none is kept."""
        state = self._state()
        if 'previous' not in state:
            raise exception.BadRequest(detail='there is no previous TLS state to roll back to')
        current, previous = self._dir('current'), self._dir('previous')
        swap = self._dir('swap')
        shutil.rmtree(swap, ignore_errors=True)
        if os.path.isdir(current):
            os.rename(current, swap)
        if os.path.isdir(previous):
            os.rename(previous, current)
        shutil.rmtree(swap, ignore_errors=True)
        self._save({'current': state['previous']})


class EngineTls:
    """Apply, disable, roll back and show TLS of one engine.

    Subclasses say where the engine is configured (``_configure``, which
    answers whether a restart is still needed) and whether the running
    engine lags its files (``_restart_pending``).
    """

    owner = None  # the engine's OS user

    def __init__(self, engine):
        self.engine = engine
        self.store = TlsStore(engine.paths.volume_dir, self.owner)

    def _configure(self) -> bool:
        raise NotImplementedError

    def write_config(self) -> None:
        """Write the engine's TLS config for the stored state (no live change)."""
        raise NotImplementedError

    def restore(self) -> None:
        """At prepare, before the engine starts: configure the TLS state the
        volume keeps.  After a rebuild the new root disk has no TLS config,
        and an engine started without it would serve plain TCP (or, for
        PostgreSQL, refuse every login its pg_hba sends to TLS)."""
        current = self.store.current()
        self.write_config()
        if current:
            LOG.info('TLS restored from the volume: mode %s, certificate %s',
                     current['mode'], current.get('fingerprint'))

    def _restart_pending(self) -> bool:
        raise NotImplementedError

    def apply(self, mode=None, p12=b'', password=None) -> dict:
        """Serve ``p12``'s certificate in ``mode``; bad input changes nothing."""
        mode = check_mode(mode)
        material = load_p12(p12, password)
        if mode == 'mtls' and not material.ca_pem:
            raise exception.BadRequest(detail='mtls needs the CA certificate of the client '
                                       'certificates in the container')
        self.store.stage(material, mode)
        return self._settle()

    def disable(self) -> dict:
        self.store.disable()
        return self._settle()

    def rollback(self) -> dict:
        self.store.rollback()
        return self._settle()

    def _settle(self):
        """Configure the engine for the new state; if the engine refuses it,
        put the old state back so the engine keeps what it had."""
        try:
            restart = self._configure()
        except Exception:
            self.store.rollback()
            self._configure()
            raise
        return dict(self.show(), restart_required=restart)

    def show(self, include_certificate=False) -> dict:
        """``status`` on/off, ``mode``, certificate facts, ``restart_required``."""
        current = self.store.current()
        answer = {'status': 'on' if current else 'off',
                  'mode': current['mode'] if current else None,
                  'restart_required': self._restart_pending()}
        cert = self.store.cert_pem() if current else None
        if cert:
            answer.update(cert_info(cert))
            if include_certificate:
                answer['certificate'] = cert
        return answer
