"""The version documents: ``GET /`` (no auth) and ``GET /v1.0/``."""
import webob.dec

from trove.api import wsgi

VERSION_ID = 'v1.0'
# Fixed by upstream; clients only compare the id.
VERSION_UPDATED = '2012-08-01T00:00:00Z'


def version_doc(host_url):
    """The description of the one API version, linked under ``host_url``."""
    return {'id': VERSION_ID, 'status': 'CURRENT', 'updated': VERSION_UPDATED,
            'links': [{'rel': 'self', 'href': '%s/%s/' % (host_url, VERSION_ID)}]}


class VersionController:
    """``GET /v1.0/`` inside the authenticated pipeline."""

    def show(self, req, **_url_args):
        return {'version': version_doc(req.host_url)}


@webob.dec.wsgify
def versions_app(req):
    """``GET /``: the list of versions, served without authentication."""
    if req.method not in ('GET', 'HEAD'):
        return wsgi.fault_response(405, 'The method %s is not allowed for this '
                                        'resource.' % req.method)
    if req.path_info not in ('', '/'):
        return wsgi.fault_response(404, 'The resource could not be found.')
    return wsgi.json_response({'versions': [version_doc(req.host_url)]})


def app_factory(global_conf, **local_conf):
    """Paste app factory of the versions app."""
    return versions_app
