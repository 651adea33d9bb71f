"""SCRAM-SHA-256 password verifiers, computed by the agent.

Roles get a verifier instead of the clear password, so the password never
reaches the server's statement log, not even in an error report.  The
format is PostgreSQL's: SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>.
"""
import base64
import hashlib
import hmac
import os
import stringprep
import unicodedata

ITERATIONS = 4096


def _saslprep(password):
    """RFC 4013 preparation as PostgreSQL does it: when the password has
    prohibited characters it is used as raw bytes instead."""
    mapped = ''.join(' ' if stringprep.in_table_c12(c) else c
                     for c in password if not stringprep.in_table_b1(c))
    normal = unicodedata.normalize('NFKC', mapped)
    prohibited = (stringprep.in_table_c12, stringprep.in_table_c21_c22,
                  stringprep.in_table_c3, stringprep.in_table_c4, stringprep.in_table_c5,
                  stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
                  stringprep.in_table_c9, stringprep.in_table_a1)
    if not normal or any(test(c) for c in normal for test in prohibited):
        return password.encode()
    return normal.encode()


def verifier(password, salt=None, iterations=ITERATIONS):
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password``."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac('sha256', _saslprep(password), salt, iterations)
    client_key = hmac.new(salted, b'Client Key', hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b'Server Key', hashlib.sha256).digest()

    def b64(data):
        return base64.b64encode(data).decode()

    return 'SCRAM-SHA-256$%d:%s$%s:%s' % (iterations, b64(salt), b64(stored_key),
                                          b64(server_key))
