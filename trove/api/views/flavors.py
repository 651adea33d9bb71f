"""Views of compute flavors as Trove's flavor proxy shows them."""
from trove.api import links


def flavor_view(req, tenant_id, flavor):
    """One flavor; ``id`` is an int for numeric ids and None otherwise, as upstream."""
    str_id = str(flavor.id)
    return {
        'id': int(str_id) if str_id.isdigit() else None,
        'str_id': str_id,
        'name': flavor.name,
        'ram': flavor.ram,
        'vcpus': flavor.vcpus,
        'disk': flavor.disk,
        'ephemeral': flavor.ephemeral,
        'links': links.create_links(req, tenant_id, 'flavors', str_id),
    }


def flavors_view(req, tenant_id, flavor_list):
    return {'flavors': [flavor_view(req, tenant_id, f) for f in flavor_list]}
