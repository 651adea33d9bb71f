"""PrepareRequest travels over RPC as a plain JSON dict."""
import json

from trove.common.prepare import PrepareRequest


def test_round_trip_through_json():
    req = PrepareRequest(memory_mb=1024, databases=[{'name': 'shop', 'character_set': 'utf8mb4'}],
                         users=[{'name': 'alice', 'password': 'pw', 'host': '%',
                                 'databases': [{'name': 'shop'}]}],
                         config_contents='[mysqld]\n', root_password='rpw',
                         overrides={'max_connections': 10}, ds_version='10.11')
    wire = json.loads(json.dumps(req.to_dict()))
    assert PrepareRequest.from_dict(wire) == req


def test_from_dict_fills_defaults_and_ignores_unknown_keys():
    req = PrepareRequest.from_dict({'memory_mb': '512', 'users': None, 'new_field': 1})
    assert req.memory_mb == 512
    assert req.users == [] and req.databases == [] and req.overrides == {}
    assert req.config_contents is None and req.root_password is None


def test_repr_hides_passwords():
    req = PrepareRequest(users=[{'name': 'alice', 'password': 'topsecret'}],
                         root_password='rootsecret')
    text = repr(req)
    assert 'topsecret' not in text and 'rootsecret' not in text
    assert 'alice' in text
