"""PasteDeploy factories of the API (referenced from etc/trove/api-paste.ini).

Paste cannot read oslo.config, so the choice between the ``trove-noauth``
and ``trove`` (keystone) pipelines is made by :func:`pipeline_factory`,
a composite that loads the pipeline named by ``CONF.api_pipeline``.
"""
import webob.dec
from paste import deploy
from oslo_log import log as logging

from trove.api import middleware, router, wsgi
from trove.api.controllers import versions
from trove.conf import CONF

LOG = logging.getLogger(__name__)


class URLMap:
    """Sends a request to the app of the longest matching path prefix.

    The prefix moves from PATH_INFO to SCRIPT_NAME, so apps below see paths
    relative to their mount point (``/v1.0`` apps see ``/{tenant}/...``).
    """

    def __init__(self, apps):
        # Longest first so "/v1.0" wins over "/".
        self.apps = sorted(((p.rstrip('/'), a) for p, a in apps.items()),
                           key=lambda item: len(item[0]), reverse=True)

    @webob.dec.wsgify
    def __call__(self, req):
        path = req.path_info
        for prefix, app in self.apps:
            if not prefix or path == prefix or path.startswith(prefix + '/'):
                req.script_name += prefix
                req.path_info = path[len(prefix):]
                return req.get_response(app)
        return wsgi.fault_response(404, 'The resource could not be found.')


def urlmap_factory(loader, global_conf, **local_conf):
    """Composite mapping path prefixes (keys starting with "/") to named apps."""
    apps = {prefix: loader.get_app(name, global_conf=global_conf)
            for prefix, name in local_conf.items() if prefix.startswith('/')}
    return URLMap(apps)


def pipeline_factory(loader, global_conf, **local_conf):
    """Composite that loads the pipeline named by ``CONF.api_pipeline``."""
    LOG.info('API pipeline: %s', CONF.api_pipeline)
    return loader.get_app(CONF.api_pipeline, global_conf=global_conf)


def versions_factory(global_conf, **local_conf):
    """The unauthenticated ``GET /`` versions app."""
    return versions.app_factory(global_conf, **local_conf)


def api_factory(global_conf, **local_conf):
    """The v1.0 router (``troveapp``)."""
    return router.APIRouter()


def faultwrap_factory(global_conf, **local_conf):
    return middleware.FaultWrapper.factory(global_conf, **local_conf)


def noauth_factory(global_conf, **local_conf):
    return middleware.NoAuthContext.factory(global_conf, **local_conf)


def keystone_context_factory(global_conf, **local_conf):
    return middleware.KeystoneContext.factory(global_conf, **local_conf)


def ratelimit_factory(global_conf, **local_conf):
    from trove.api import ratelimit
    return ratelimit.RateLimitMiddleware.factory(global_conf, **local_conf)


def load_app(paste_file, name='main'):
    """Build the WSGI app ``name`` from the paste file at ``paste_file``."""
    LOG.info('Loading app %s from %s', name, paste_file)
    return deploy.loadapp('config:%s' % paste_file, name=name)
