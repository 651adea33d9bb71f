"""Compute drivers: how the taskmanager gets servers and volumes.

Drivers are found through the ``trove.compute.drivers`` entry point group;
a source tree that is not installed as a distribution falls back to the
built-in map so the local and fake drivers always work.
"""
from trove.common import exception, plugins
from trove.conf import CONF

ENTRY_POINT_GROUP = 'trove.compute.drivers'

_BUILTIN = {
    'local': 'trove.compute.local:LocalDriver',
    'fake': 'trove.compute.fake:FakeDriver',
    'nova': 'trove.compute.nova:NovaDriver',
}


def _load_class(name):
    cls = plugins.load_class(ENTRY_POINT_GROUP, name, _BUILTIN)
    if cls is None:
        raise exception.ComputeError(detail='unknown compute driver %r' % name)
    return cls


def get_driver(name=None, **kwargs):
    """Instantiate the compute driver ``name`` (default CONF.compute_driver).

    Extra keyword arguments go to the driver's constructor.
    """
    return _load_class(name or CONF.compute_driver)(**kwargs)
