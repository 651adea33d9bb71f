"""WSGI middleware of the v1.0 pipelines: fault wrapping and request contexts.

Two context filters exist because two deployments exist: ``noauth`` for a
keystone-less install (the ``openstack`` CLI with ``--os-auth-type none``
or a static token), and ``keystone`` behind keystonemiddleware's authtoken.
Both leave a :class:`TroveContext` in ``environ['trove.context']``.
"""
import json
import traceback

import webob.dec
import webob.exc
from oslo_log import log as logging

from trove.api import wsgi
from trove.common import exception
from trove.common.context import TroveContext
from trove.conf import CONF

LOG = logging.getLogger(__name__)

CONTEXT_KEY = 'trove.context'


def url_tenant(path_info):
    """The tenant segment of ``/{tenant}/...`` (PATH_INFO below /v1.0), or None."""
    first = path_info.lstrip('/').split('/', 1)[0]
    return first or None


MAX_MARKER_LENGTH = 255


def _pagination(req):
    """``(limit, marker)`` of the query string; BadRequest when malformed.

    ``limit`` must be a positive integer (larger ones are capped to the page
    size by the lists); ``marker`` is an id or name, so a short printable string.
    """
    limit = req.GET.get('limit')
    if limit in (None, ''):
        limit = None
    elif not (limit.isascii() and limit.isdigit()) or len(limit) > 18 or int(limit) < 1:
        raise exception.BadRequest(
            'Invalid limit %r: expected a positive integer.' % limit[:40])
    else:
        limit = int(limit)
    marker = req.GET.get('marker') or None
    if marker is not None and (len(marker) > MAX_MARKER_LENGTH
                               or not marker.isprintable()):
        raise exception.BadRequest('Invalid marker: expected at most %d printable '
                                   'characters.' % MAX_MARKER_LENGTH)
    return limit, marker


def _is_admin(roles):
    return any(role in CONF.admin_roles for role in roles)


def build_context(req, project_id, user_id, roles):
    """A TroveContext for ``req`` with pagination taken from the query string.

    The context becomes the thread's current one, so every log line of the
    request (the access line included) carries its request id and project.
    """
    limit, marker = _pagination(req)
    return TroveContext(project_id=project_id, user_id=user_id, roles=list(roles),
                        is_admin=_is_admin(roles),
                        auth_token=req.headers.get('X-Auth-Token'),
                        limit=limit, marker=marker)


class _Middleware:
    """Base of the filters: wraps ``application`` and keeps the paste config."""

    def __init__(self, application, **local_conf):
        self.application = application
        self.local_conf = local_conf

    @classmethod
    def factory(cls, global_conf, **local_conf):
        def _filter(app):
            return cls(app, **local_conf)
        return _filter


class FaultWrapper(_Middleware):
    """Turns escaped exceptions and foreign error bodies into trove JSON faults.

    authtoken answers ``{"error": {...}}`` and webob text/plain or HTML;
    clients look for the trove fault name, so those are rewritten keeping
    the status code and the message.
    """

    @webob.dec.wsgify
    def __call__(self, req):
        try:
            resp = req.get_response(self.application)
        except Exception:
            return wsgi.internal_error_response(traceback.format_exc())
        if resp.status_int < 400:
            return resp
        message = _foreign_fault_message(resp)
        if message is None:
            return resp
        return wsgi.fault_response(resp.status_int, message[:1024],
                                   headers=_kept_headers(resp))


def _foreign_fault_message(resp):
    """The message of an error body not in trove's fault shape, else None."""
    if 'json' in (resp.content_type or ''):
        try:
            body = json.loads(resp.body)
        except ValueError:
            body = None
        if isinstance(body, dict) and wsgi.fault_name(resp.status_int) in body:
            return None
        inner = next(iter(body.values()), None) if isinstance(body, dict) else None
        if isinstance(inner, dict) and inner.get('message'):
            return str(inner['message'])
    return resp.text.strip() if resp.body else resp.status


def _kept_headers(resp):
    keep = ('WWW-Authenticate', 'Retry-After', 'Allow', 'x-openstack-request-id')
    return {k: v for k, v in resp.headers.items() if k in keep}


def _with_request_id(resp, context):
    resp.headers['x-openstack-request-id'] = context.request_id
    return resp


class NoAuthContext(_Middleware):
    """Context for keystone-less use: tenant from the URL, token opaque.

    The user id comes from X-User-Id when a caller sends one and the roles
    from ``CONF.noauth_roles``, so an operator decides whether local callers
    are admins (or from X-Roles when ``noauth_trust_roles_header`` is set).
    """

    @webob.dec.wsgify
    def __call__(self, req):
        tenant = url_tenant(req.path_info)
        user = req.headers.get('X-User-Id') or 'noauth'
        roles = CONF.noauth_roles
        if CONF.noauth_trust_roles_header and _header_roles(req, None) is not None:
            # Test deployments act as non-admins this way; see the option's help.
            roles = _header_roles(req)
        try:
            context = build_context(req, tenant, user, roles)
        except exception.BadRequest as exc:
            return wsgi.fault_response(exc.code, exc.msg)
        req.environ[CONTEXT_KEY] = context
        return _with_request_id(req.get_response(self.application), context)


def _header_roles(req, missing=()):
    raw = req.headers.get('X-Roles') or req.headers.get('X-Role')
    if raw is None:
        return missing
    return [role.strip() for role in raw.split(',') if role.strip()]


class KeystoneContext(_Middleware):
    """Context from the headers keystonemiddleware's authtoken sets.

    A token scoped to one project may only address that project's URLs;
    anything else is answered 403 as upstream's TenantBasedAuth does.
    """

    @webob.dec.wsgify
    def __call__(self, req):
        project = req.headers.get('X-Project-Id') or req.headers.get('X-Tenant-Id')
        tenant = url_tenant(req.path_info)
        if tenant is not None and tenant != project:
            LOG.warning('Token of project %s used for tenant %s', project, tenant)
            return wsgi.fault_response(
                403, 'User with tenant id %s cannot access this resource.' % project)
        user = req.headers.get('X-User-Id') or req.headers.get('X-User')
        try:
            context = build_context(req, project, user, _header_roles(req))
        except exception.BadRequest as exc:
            return wsgi.fault_response(exc.code, exc.msg)
        req.environ[CONTEXT_KEY] = context
        return _with_request_id(req.get_response(self.application), context)


def get_context(req):
    """The request context a context filter stored, or 400 when none ran."""
    context = req.environ.get(CONTEXT_KEY)
    if context is None:
        raise webob.exc.HTTPBadRequest('No request context; check the paste pipeline.')
    return context

