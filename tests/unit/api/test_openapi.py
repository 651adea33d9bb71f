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
