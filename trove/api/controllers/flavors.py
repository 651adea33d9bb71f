"""Flavors: a read-only proxy of the compute driver's flavors.

``get_compute`` is the module-level hook that yields the compute driver;
tests (and the instances controller) call it through this module so one
assignment replaces the driver everywhere in the API.
"""
import threading

from trove.api import middleware
from trove.api.views import flavors as views
from trove.common import policy


_DRIVERS = {}  # compute_driver name -> the API process's one driver
_DRIVERS_LOCK = threading.Lock()


def get_compute():
    """The configured compute driver, loaded once per process (imported late:
    it is a heavy, optional import; looking it up through the entry points on
    every request tripled the time of GET /flavors)."""
    from trove import compute
    from trove.conf import CONF
    name = CONF.compute_driver
    driver = _DRIVERS.get(name)
    if driver is None:
        # A burst of first requests (50 concurrent creates) builds one driver,
        # not one each.
        with _DRIVERS_LOCK:
            driver = _DRIVERS.get(name)
            if driver is None:
                driver = _DRIVERS[name] = compute.get_driver(name)
    return driver


def find_flavor(flavor_ref):
    """The flavor named by an id or an href (last path segment), or FlavorNotFound."""
    flavor_id = str(flavor_ref).rstrip('/').rsplit('/', 1)[-1]
    return get_compute().get_flavor(flavor_id)


class FlavorController:
    """``/flavors`` and ``/datastores/{ds}/versions/{vid}/flavors``."""

    def index(self, req, tenant_id):
        policy.authorize(middleware.get_context(req), 'flavor:index')
        return views.flavors_view(req, tenant_id, get_compute().list_flavors())

    def show(self, req, tenant_id, id):
        policy.authorize(middleware.get_context(req), 'flavor:show')
        return {'flavor': views.flavor_view(req, tenant_id, find_flavor(id))}

    def index_for_version(self, req, tenant_id, datastore, version_id):
        """Flavors usable with a version; every flavor, as no restrictions exist yet."""
        from trove.db import datastores
        policy.authorize(middleware.get_context(req), 'datastore:list_associated_flavors')
        ds = datastores.get_datastore(datastore)
        datastores.get_version(ds.id, version_id)
        return views.flavors_view(req, tenant_id, get_compute().list_flavors())
