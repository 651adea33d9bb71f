"""Default oslo.policy rules, one module per resource.

``list_rules`` is the ``oslo.policy.policies`` entry point the sample
generator (``tox -e genpolicy``) and the enforcer read.
"""
import itertools

from trove.common.policies import (backups, base, configurations, databases, datastores,
                                   flavors, instances, limits, mgmt, quotas, root, users)

_MODULES = (base, instances, databases, users, root, datastores, flavors, limits,
            quotas, mgmt, configurations, backups)


def list_rules():
    """Every default rule of trove."""
    return list(itertools.chain.from_iterable(m.list_rules() for m in _MODULES))
