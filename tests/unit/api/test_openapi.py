"""doc/openapi.yaml documents exactly the routes the router exposes."""
import os
import re

import yaml

from trove.api import router

DOC = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'doc', 'openapi.yaml')
_VERBS = ('get', 'post', 'put', 'patch', 'delete', 'head')


def _load():
    with open(DOC) as f:
        return yaml.safe_load(f)


def _routes():
    return {(r.conditions['method'][0], r.routepath)
            for r in router.build_mapper().matchlist}


def _documented(doc):
    return {(verb.upper(), path) for path, ops in doc['paths'].items()
            for verb in ops if verb in _VERBS}


def test_every_route_is_documented_and_nothing_else():
    routes, documented = _routes(), _documented(_load())
    missing = sorted(routes - documented)
    extra = sorted(documented - routes)
    assert not missing, 'routes missing from doc/openapi.yaml: %s' % missing
    assert not extra, 'doc/openapi.yaml lists routes the router lacks: %s' % extra


def test_operations_are_complete():
    doc = _load()
    schemas = doc['components']['schemas']
    for path, ops in doc['paths'].items():
        names = set(re.findall(r'{(\w+)}', path))
        for verb, op in ops.items():
            where = '%s %s' % (verb.upper(), path)
            assert {p['name'] for p in op.get('parameters', []) if p['in'] == 'path'} \
                == names, where
            codes = [int(c) for c in op['responses']]
            assert any(200 <= c < 300 for c in codes), where
            for ref in re.findall(r"'\$ref': '#/components/schemas/(\w+)'", str(op)):
                assert ref in schemas, '%s refers to unknown schema %s' % (where, ref)


def test_documented_statuses_of_quota_and_mgmt_routes():
    paths = _load()['paths']
    assert '200' in paths['/{tenant_id}/limits']['get']['responses']
    assert '413' in paths['/{tenant_id}/instances']['post']['responses']
    assert '204' in paths['/{tenant_id}/mgmt/datastores/versions/{version_id}/parameters/{id}'][
        'delete']['responses']
    assert '202' in paths['/{tenant_id}/mgmt/datastore-versions']['post']['responses']


def test_request_bodies_are_the_server_schemas():
    """What the document allows is what the server validates (and nothing else)."""
    from trove.api import openapi
    doc = _load()
    assert doc['openapi'].startswith('3.1')
    bodies = openapi.request_bodies()
    for (verb, path), (schema, required) in bodies.items():
        assert openapi.documented_body(doc, verb, path) == (schema, required), \
            '%s %s drifted: run python -m trove.api.openapi --write doc/openapi.yaml' % (
                verb, path)
    for path, ops in doc['paths'].items():
        for verb, op in ops.items():
            if 'requestBody' in op:
                assert (verb.upper(), path) in bodies, '%s %s has a body the server ' \
                    'does not validate' % (verb, path)


def test_root_enable_body_is_optional():
    body = _load()['paths']['/{tenant_id}/instances/{instance_id}/root']['post']['requestBody']
    assert body['required'] is False
