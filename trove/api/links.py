"""Links and timestamps as upstream renders them in every view.

Links always use https, whatever scheme the request came in with: that is
what upstream emits and what clients have been written against.
"""
import urllib.parse

from trove.api.controllers.versions import VERSION_ID


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
    url = 'https://%s%s%s?%s' % (req.host, req.script_name, req.path_info,
                                 urllib.parse.urlencode(params))
    return [{'rel': 'next', 'href': url}]


def isotime(value):
    """``YYYY-MM-DDTHH:MM:SS`` of a naive UTC datetime, or None."""
    if value is None:
        return None
    return value.strftime('%Y-%m-%dT%H:%M:%S')
