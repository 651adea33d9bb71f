"""Keep doc/openapi.yaml's request bodies identical to the server's schemas.

The controllers' Draft 4 schemas are what the server validates, so they are
the truth the document must tell: OpenAPI 3.1 schemas are JSON Schema, and
the keywords the controllers use mean the same there.  ``--write`` copies
each route's schema into the document (``requestBody.required`` is false
for actions in the controller's ``optional_bodies``);
tests/unit/api/test_openapi.py fails when the two drift apart.

    .venv/bin/python -m trove.api.openapi --write doc/openapi.yaml
"""
import argparse
import copy
import json

import yaml

from trove.api import router

HEADER = ('# OpenAPI description of the trove v1.0 API (every route of '
          'trove/api/router.py).\n# Request bodies are written by '
          '`python -m trove.api.openapi --write doc/openapi.yaml`.\n')


def request_bodies(mapper=None):
    """``{(VERB, routepath): (schema, required)}`` of every route with a schema."""
    mapper = mapper or router.build_mapper()
    found = {}
    for route in mapper.matchlist:
        controller = route.defaults['controller'].controller
        action = route.defaults['action']
        schema = getattr(controller, 'schemas', {}).get(action)
        if schema is None:
            continue
        required = action not in getattr(controller, 'optional_bodies', ())
        # A JSON round trip gives plain lists and dicts, as YAML will load them.
        found[(route.conditions['method'][0], route.routepath)] = (
            json.loads(json.dumps(schema)), required)
    return found


def documented_body(doc, verb, path):
    """``(schema, required)`` of one operation's JSON request body, or None."""
    body = doc['paths'].get(path, {}).get(verb.lower(), {}).get('requestBody')
    if body is None:
        return None
    return body['content']['application/json']['schema'], body.get('required', False)


def sync(doc):
    """Write every server schema into ``doc`` (in place); returns ``doc``."""
    doc['openapi'] = '3.1.0'
    for (verb, path), (schema, required) in request_bodies().items():
        operation = doc['paths'][path][verb.lower()]
        operation['requestBody'] = {
            'required': required,
            'content': {'application/json': {'schema': copy.deepcopy(schema)}}}
    return doc


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def dump(doc):
    """The document as YAML text, without anchors, keys in their order."""
    return HEADER + yaml.dump(doc, Dumper=_NoAliasDumper, sort_keys=False,
                              allow_unicode=True, width=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--write', metavar='OPENAPI_YAML', required=True)
    path = parser.parse_args().write
    with open(path) as f:
        doc = yaml.safe_load(f)
    with open(path, 'w') as f:
        f.write(dump(sync(doc)))


if __name__ == '__main__':
    main()
