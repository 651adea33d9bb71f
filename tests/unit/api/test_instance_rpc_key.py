"""The API gives every new instance an RPC key and never shows it."""
import json

from trove.common import rpc_crypto
from trove.conf import CONF
from trove.db import api as db_api

from tests.unit.api.conftest import call, create_body

BASE = '/v1.0/t1/instances'


def _create(app):
    status, body = call(app, 'POST', BASE, create_body())
    assert status == 200, body
    return body['instance']


def test_create_stores_an_encrypted_key_and_never_renders_it(app, recorder):
    inst = _create(app)
    row = db_api.get_instance(inst['id'])
    assert row.encrypted_key
    plain = rpc_crypto.decrypt_instance_key(row.encrypted_key)
    (_method, cast_kwargs), = recorder.calls
    shown = [inst, call(app, 'GET', BASE + '/' + inst['id'])[1],
             call(app, 'GET', BASE + '/detail')[1], call(app, 'GET', BASE)[1], cast_kwargs]
    for body in shown:
        text = json.dumps(body)
        assert 'encrypted_key' not in text and 'rpc_encr' not in text
        assert row.encrypted_key not in text and plain not in text
    # Each instance has its own key.
    other = db_api.get_instance(_create(app)['id'])
    assert rpc_crypto.decrypt_instance_key(other.encrypted_key) != plain


def test_no_key_when_secure_messaging_is_off(app, recorder):
    CONF.set_override('enable_secure_rpc_messaging', False)
    try:
        inst = _create(app)
    finally:
        CONF.clear_override('enable_secure_rpc_messaging')
    assert db_api.get_instance(inst['id']).encrypted_key is None
    assert rpc_crypto.guest_api_serializer(inst['id']) is None
