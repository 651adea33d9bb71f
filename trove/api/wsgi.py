"""JSON request/response plumbing shared by every API controller.

A :class:`Resource` wraps one controller.  The router hands it the action
name and the URL arguments of a Routes match; the resource parses and
validates the JSON body, calls the controller method and turns the result
(or the exception) into a JSON response.  Faults use upstream Trove's shape
``{"<faultName>": {"code": <int>, "message": "<text>"}}``.
"""
import json
import traceback
import uuid

import jsonschema
import webob
import webob.exc
from oslo_log import log as logging

from trove.common import exception

LOG = logging.getLogger(__name__)

JSON_TYPE = 'application/json'

# Fault names clients (troveclient, Horizon) look for; other codes fall back
# to the lower-camel webob class name, as upstream does.
_FAULT_NAMES = {
    400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound',
    405: 'badMethod', 413: 'overLimit', 415: 'badMediaType', 500: 'instanceFault',
    501: 'notImplemented', 503: 'serviceUnavailable',
}


def fault_name(code):
    """The key of the fault object for HTTP status ``code``."""
    if code in _FAULT_NAMES:
        return _FAULT_NAMES[code]
    cls = webob.exc.status_map.get(code)
    if cls is None:
        return 'computeFault'
    name = cls.__name__.replace('HTTP', '', 1)
    return name[:1].lower() + name[1:]


def json_response(body, status=200, headers=None):
    """A webob response carrying ``body`` as JSON (no body when None)."""
    resp = webob.Response(status=status, content_type=None)
    if body is not None:
        resp.content_type = JSON_TYPE
        resp.charset = 'utf-8'
        resp.body = json.dumps(body).encode('utf-8')
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def fault_response(code, message, headers=None):
    """A JSON fault response."""
    body = {fault_name(code): {'code': code, 'message': message}}
    return json_response(body, status=code, headers=headers)


def internal_error_response(exc_info_text):
    """Log a traceback under a fresh id and answer 500 without leaking it."""
    error_id = str(uuid.uuid4())
    LOG.error('Unhandled error %s:\n%s', error_id, exc_info_text)
    return fault_response(
        500, 'Internal Server Error. Please keep this ID to help us figure out '
             'what went wrong: (%s).' % error_id)


class Result:
    """What a controller returns when the status is not 200 or there is no body."""

    def __init__(self, body=None, status=200, headers=None):
        self.body = body
        self.status = status
        self.headers = headers or {}


def validation_message(errors):
    """Render jsonschema errors as upstream's "Validation error: ..." text."""
    parts = []
    for error in errors:
        path = '.'.join(str(p) for p in error.absolute_path)
        parts.append(('%s %s' % (path, error.message)).strip())
    return 'Validation error: %s' % '; '.join(parts)


def validate(schema, body):
    """Raise BadRequest when ``body`` does not satisfy the Draft4 ``schema``."""
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        raise exception.BadRequest(validation_message(errors))


# No request of the API nests deeper than five levels (instance.users[].
# databases[].name); the bound keeps validation and RPC serialisation of a
# hostile body from recursing without end.
MAX_BODY_DEPTH = 32
# Far above any valid request (the largest, 100 users with 100 databases
# each, is ~0.5 MiB), so only abusive bodies are refused.
MAX_BODY_BYTES = 1024 * 1024


def body_depth(value):
    """Nesting depth of decoded JSON (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in item)
    return deepest


def _decode(raw):
    try:
        return json.loads(raw.decode('utf-8'))
    except RecursionError:
        raise exception.BadRequest('Malformed request body: nested deeper than %d levels.'
                                   % MAX_BODY_DEPTH)
    except (ValueError, UnicodeDecodeError):
        raise exception.BadRequest('Malformed request body: not valid JSON.')


def parse_body(req):
    """The JSON object of a request body, or None when the body is empty."""
    if req.content_length and req.content_length > MAX_BODY_BYTES:
        raise exception.RequestTooLarge(limit=MAX_BODY_BYTES)
    raw = req.body
    if not raw:
        return None
    if len(raw) > MAX_BODY_BYTES:
        raise exception.RequestTooLarge(limit=MAX_BODY_BYTES)
    ctype = req.content_type or ''
    if ctype and 'json' not in ctype:
        raise webob.exc.HTTPUnsupportedMediaType(
            'Unsupported Content-Type %s; send application/json.' % ctype)
    body = _decode(raw)
    if not isinstance(body, dict):
        raise exception.BadRequest('Malformed request body: expected a JSON object.')
    if body_depth(body) > MAX_BODY_DEPTH:
        raise exception.BadRequest('Malformed request body: nested deeper than %d levels.'
                                   % MAX_BODY_DEPTH)
    return body


class Resource:
    """Dispatches a routed request to one controller and renders the outcome.

    Controllers declare ``schemas = {action: jsonschema}``; a schema present
    for an action makes a body mandatory and validated before the method runs,
    unless the action is in ``optional_bodies`` (then a body that is sent is
    validated, and none is passed as None).
    """

    def __init__(self, controller):
        self.controller = controller

    def __call__(self, req, action, args):
        try:
            return self._dispatch(req, action, args)
        except exception.TroveError as exc:
            if exc.code >= 500:
                LOG.error('%s %s failed: %s', req.method, req.path, exc.msg)
            return fault_response(exc.code, exc.msg)
        except webob.exc.HTTPException as exc:
            return fault_response(exc.code, exc.detail or exc.explanation)
        except Exception:
            return internal_error_response(traceback.format_exc())

    def _dispatch(self, req, action, args):
        method = getattr(self.controller, action)
        kwargs = dict(args)
        if req.method in ('POST', 'PUT', 'PATCH'):
            body = parse_body(req)
            schema = getattr(self.controller, 'schemas', {}).get(action)
            optional = action in getattr(self.controller, 'optional_bodies', ())
            if schema is not None and body is None and not optional:
                raise exception.BadRequest('Request body is required.')
            if schema is not None and body is not None:
                validate(schema, body)
            kwargs['body'] = body
        # Bodies may carry passwords (users on create), so only the line is logged.
        LOG.debug('%s %s -> %s.%s', req.method, req.path,
                  type(self.controller).__name__, action)
        result = method(req, **kwargs)
        if isinstance(result, webob.Response):
            return result
        if isinstance(result, Result):
            return json_response(result.body, result.status, result.headers)
        return json_response(result)
