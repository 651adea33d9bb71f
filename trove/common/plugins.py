"""Classes loaded by name from an entry point group.

Drivers, stores and engines are found through their package's entry points;
a source tree that is not installed as a distribution falls back to the
built-in map (``name -> 'module:Class'``) so the bundled ones always work.
"""
import importlib
import threading
from importlib import metadata

_LOADED = {}
_LOCK = threading.RLock()  # an entry point's import may load another


def load_class(group, name, builtin):
    """The class registered as ``name`` in entry point ``group``, else the one
    ``builtin`` names; None when neither knows ``name``.

    Found once per process: listing entry points reads the metadata of every
    installed distribution (tens of ms), and the installed set does not
    change under a running process.  The lock keeps a burst of first
    requests from each doing that scan.
    """
    key = (group, name)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _find(group, name, builtin)
        return _LOADED[key]


def _find(group, name, builtin):
    for ep in metadata.entry_points(group=group):
        if ep.name == name:
            return ep.load()
    return builtin_class(builtin, name)


def builtin_class(builtin, name):
    """The class ``builtin`` (``name -> 'module:Class'``) names for ``name``,
    imported on first use; None when it has no entry for ``name``."""
    target = builtin.get(name)
    if target is None:
        return None
    module, _, attr = target.partition(':')
    return getattr(importlib.import_module(module), attr)
