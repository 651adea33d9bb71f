"""Read-only Nova and Cinder endpoints for the local compute driver.

Horizon's trove-dashboard never asks Trove for flavors: its Launch Instance
form reads flavors and availability zones from the catalog's ``compute``
service (novaclient: ``/flavors/detail``, ``/os-availability-zone``) and
volume types from ``block-storage`` (cinderclient: ``/types``).  On a cloud
Nova and Cinder answer; on the single-host deployment nothing would, and the
form fails.  This app answers exactly those reads, from the same source as
Trove's own ``/flavors`` (the API process's compute driver), so Horizon shows
what Trove will accept.  It is mounted in the API's paste file under
``/compute`` and ``/volume`` behind the same auth pipeline as ``/v1.0``.

It is not a Nova or Cinder: a write to these paths answers 405 (``Allow: GET, HEAD``)
and every other path 404, so a client that expects more fails plainly.  With
the ``nova`` driver every path here is a 404: the cloud's own services answer.
"""
import re

import webob
import webob.dec

from trove.api import wsgi
from trove.api.controllers import flavors as flavor_source

# The local driver runs every server on one host: one zone.  "nova" is
# Nova's default zone name, the one clients and Horizon expect to see.
ZONE = 'nova'
NOVA_VERSION = '2.1'
CINDER_VERSION = '3.0'


def _fault(status, message):
    """A fault in the API's shape ({"<name>": {"code", "message"}}), which is
    also Nova's and Cinder's: their clients read the message the same way."""
    headers = {'Allow': 'GET, HEAD'} if status == 405 else None
    return wsgi.fault_response(status, message, headers=headers)


def _link(req, path):
    return [{'rel': 'self', 'href': req.host_url + req.script_name + path}]


def _flavor(req, prefix, flavor):
    """One flavor in Nova's detailed shape (no swap, public, enabled)."""
    return {'id': flavor.id, 'name': flavor.name,
            'links': _link(req, '%s/flavors/%s' % (prefix, flavor.id)),
            'ram': flavor.ram, 'vcpus': flavor.vcpus, 'disk': flavor.disk,
            'OS-FLV-EXT-DATA:ephemeral': flavor.ephemeral, 'swap': 0,
            'rxtx_factor': 1.0, 'os-flavor-access:is_public': True,
            'OS-FLV-DISABLED:disabled': False, 'description': None, 'extra_specs': {}}


def _find_flavor(flavor_id):
    for flavor in flavor_source.get_compute().list_flavors():
        if flavor.id == flavor_id:
            return flavor
    return None


def _nova(req, prefix, rest):
    """The compute reads Horizon makes (its log on the Launch Instance path):
    flavors in detail, one flavor (the instances table names it), the zones.
    ``rest`` is the path after the (optional) project segment."""
    if rest == '/flavors/detail':
        return {'flavors': [_flavor(req, prefix, f)
                            for f in flavor_source.get_compute().list_flavors()]}
    match = re.fullmatch(r'/flavors/([^/]+)', rest)
    if match:
        flavor = _find_flavor(match.group(1))
        if flavor is None:
            return _fault(404, 'Flavor %s could not be found.' % match.group(1))
        return {'flavor': _flavor(req, prefix, flavor)}
    if rest == '/os-availability-zone':
        return {'availabilityZoneInfo': [{'zoneName': ZONE, 'zoneState': {'available': True},
                                          'hosts': None}]}
    return None


def _type_view(volume_type):
    return {'id': volume_type['id'], 'name': volume_type['name'],
            'description': volume_type.get('description'),
            'is_public': bool(volume_type.get('is_public', True)),
            'os-volume-type-access:is_public': bool(volume_type.get('is_public', True)),
            'extra_specs': {}, 'qos_specs_id': None}


def _cinder(req, prefix, rest):
    """The one block-storage read Horizon makes: the driver's volume types
    (none on the local driver; the form then offers "No volume type")."""
    if rest == '/types':
        types = flavor_source.get_compute().list_volume_types()
        return {'volume_types': [_type_view(t) for t in types]}
    return None


def _version(req, prefix, version, min_version):
    return {'id': prefix.strip('/'), 'status': 'CURRENT', 'version': version,
            'min_version': min_version, 'updated': '2013-07-23T11:33:21Z',
            'links': _link(req, prefix + '/')}


class CatalogApp:
    """One service (``nova`` or ``cinder``) mounted at its own path prefix."""

    SERVICES = {
        'nova': ('/v2.1', _nova, NOVA_VERSION, '2.1', 'X-OpenStack-Nova-API-Version'),
        'cinder': ('/v3', _cinder, CINDER_VERSION, '3.0', 'OpenStack-API-Version'),
    }

    def __init__(self, service):
        (self.prefix, self.handler, self.max_version, self.min_version,
         self.header) = self.SERVICES[service]
        self.service = service

    def _versions(self, req, path):
        """The version documents clients fetch to negotiate a microversion."""
        doc = _version(req, self.prefix, self.max_version, self.min_version)
        if path in ('', '/'):
            return {'versions': [doc]}
        if path in (self.prefix, self.prefix + '/'):
            return {'version': doc}
        return None

    def _route(self, req):
        path = req.path_info
        body = self._versions(req, path)
        if body is not None:
            return body
        if not path.startswith(self.prefix + '/'):
            return None
        rest = path[len(self.prefix):]
        # Both URL styles: /v2.1/flavors and /v2.1/{project_id}/flavors.
        body = self.handler(req, self.prefix, rest)
        if body is None:
            match = re.fullmatch(r'/([0-9a-zA-Z_-]+)(/.+)', rest)
            if match:
                body = self.handler(req, self.prefix + '/' + match.group(1), match.group(2))
        return body

    @webob.dec.wsgify
    def __call__(self, req):
        from trove.conf import CONF
        if CONF.compute_driver == 'nova':
            # A cloud's own Nova and Cinder are in the catalog; answering
            # here too would show clients a second, partial compute service.
            return _fault(404, 'The nova compute driver uses the cloud\'s own %s; this '
                          'endpoint serves the single-host drivers only.'
                          % ('Nova' if self.service == 'nova' else 'Cinder'))
        body = self._route(req)
        if body is None:
            return _fault(404, 'The resource could not be found.')
        if req.method not in ('GET', 'HEAD'):
            return _fault(405, 'This single-host %s endpoint is read-only: it serves the '
                          'local driver\'s catalogue only.' % self.service)
        if isinstance(body, webob.Response):
            return body
        resp = webob.Response(json_body=body)
        version = '%s %s' % ('compute' if self.service == 'nova' else 'volume',
                             self.max_version)
        resp.headers[self.header] = version if self.header.startswith('OpenStack') \
            else self.max_version
        resp.headers['OpenStack-API-Version'] = version
        resp.headers['Vary'] = self.header
        return resp


class PublicVersions:
    """The version documents without auth (clients fetch them before they
    send a token, as for trove's own ``GET /``), everything else through
    ``pipeline``."""

    def __init__(self, bare, pipeline):
        self.bare, self.pipeline = bare, pipeline

    @webob.dec.wsgify
    def __call__(self, req):
        if req.path_info.rstrip('/') in ('', self.bare.prefix):
            return req.get_response(self.bare)
        return req.get_response(self.pipeline)


def composite_factory(loader, global_conf, **local_conf):
    """Paste composite: ``app`` (the bare catalog app) for the version
    documents, and the pipeline of the one CONF.api_pipeline names."""
    from trove.conf import CONF
    pipeline = local_conf.get(CONF.api_pipeline, CONF.api_pipeline)
    return PublicVersions(loader.get_app(local_conf['app'], global_conf=global_conf),
                          loader.get_app(pipeline, global_conf=global_conf))


def nova_factory(global_conf, **local_conf):
    """Paste app factory of the read-only compute endpoint."""
    return CatalogApp('nova')


def cinder_factory(global_conf, **local_conf):
    """Paste app factory of the read-only block-storage endpoint."""
    return CatalogApp('cinder')
