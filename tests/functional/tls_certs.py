"""Test certificates: a CA, a server certificate for an address and a client
certificate for a user, packed like the users' PKCS#12 containers."""
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _signed(subject, public_key, ca_cert, ca_key, extensions):
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(ca_cert.subject if ca_cert else subject)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2)))
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    return builder.sign(ca_key, hashes.SHA256())


def make_bundle(address, client_name, password=None, ca_name='test CA'):
    """A dict like the plugin's: ``p12_payload`` (server key, certificate and
    CA), ``key``, ``cert``, ``cas``, ``client_cert``, ``client_key``."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _signed(_name(ca_name), ca_key.public_key(), None, ca_key,
                 [(x509.BasicConstraints(ca=True, path_length=None), True)])
    key = ec.generate_private_key(ec.SECP256R1())
    server = _signed(_name(address), key.public_key(), ca, ca_key, [
        (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), False),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)])
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _signed(_name(client_name), client_key.public_key(), ca, ca_key, [
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)])
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    payload = pkcs12.serialize_key_and_certificates(b'server', key, server, [ca], encryption)
    return {'p12_payload': payload, 'key': _pem_key(key), 'cert': _pem(server),
            'cas': [_pem(ca)], 'client_cert': _pem(client), 'client_key': _pem_key(client_key)}


def write_client_files(directory, bundle, prefix):
    """CA, client certificate and key of ``bundle`` as files; their paths."""
    paths = {}
    for name, text in (('ca', bundle['cas'][0]), ('cert', bundle['client_cert']),
                       ('key', bundle['client_key'])):
        path = os.path.join(directory, '%s-%s.pem' % (prefix, name))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        paths[name] = path
    return paths
