"""Links and timestamps as upstream renders them in every view.

Item links (``self``, ``bookmark``) use https, as upstream emits them.  The
``next`` link of a list is one clients follow (openstacksdk does), so it is
built from ``CONF.public_endpoint`` when set, else from the request's own
scheme and host: an https link on a plain-http API cannot be followed.
"""
import urllib.parse

from trove.api.controllers.versions import VERSION_ID
from trove.conf import CONF


def create_links(req, tenant_id, resource, item_id):
    """``self`` and ``bookmark`` links of one item of ``resource``."""
    host = req.host
    return [
        {'rel': 'self',
         'href': 'https://%s/%s/%s/%s/%s' % (host, VERSION_ID, tenant_id, resource, item_id)},
        {'rel': 'bookmark', 'href': 'https://%s/%s/%s' % (host, resource, item_id)},
    ]


def next_page_link(req, marker):
    """The ``next`` link of a paginated list: this URL with ``marker`` replaced."""
    params = [(k, v) for k, v in req.GET.items() if k != 'marker']
    params.append(('marker', marker))
    base = (CONF.public_endpoint or req.host_url).rstrip('/')
    url = '%s%s%s?%s' % (base, req.script_name, req.path_info,
                         urllib.parse.urlencode(params))
    return [{'rel': 'next', 'href': url}]


def isotime(value):
    """``YYYY-MM-DDTHH:MM:SS`` of a naive UTC datetime, or None."""
    if value is None:
        return None
    return value.strftime('%Y-%m-%dT%H:%M:%S')
