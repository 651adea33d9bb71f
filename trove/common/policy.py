"""The policy enforcer and the one call controllers make: :func:`authorize`.

Rules default to the code in ``trove.common.policies``; an operator's
``policy.yaml`` (``[oslo_policy] policy_file``) overrides any of them.
Controllers call, before touching anything::

    policy.authorize(context, 'instance:create')                  # own project
    policy.authorize(context, 'instance:show', instance.tenant_id)  # a row's owner

A denial raises PolicyNotAuthorized, answered 403 ``forbidden``.
"""
import threading

from oslo_config import cfg
from oslo_log import log as logging
from oslo_policy import policy

from trove.common import exception, policies
from trove.conf import CONF

LOG = logging.getLogger(__name__)

_LOCK = threading.Lock()
_ENFORCER = None


def get_enforcer():
    """The process-wide enforcer (also the ``oslo.policy.enforcer`` entry point)."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is None:
            parsed = _conf_parsed()
            enforcer = policy.Enforcer(CONF, use_conf=parsed)
            enforcer.register_defaults(policies.list_rules())
            if not parsed:
                enforcer.set_rules({r.name: r.check for r in policies.list_rules()},
                                   use_conf=False)
            _ENFORCER = enforcer
    return _ENFORCER


def _conf_parsed():
    # Unit tests never parse a config; the in-code defaults then apply alone.
    try:
        CONF.find_file('policy.yaml')
    except cfg.NotInitializedError:
        return False
    return True


def reset():
    """Forget the enforcer (tests change rules between runs)."""
    global _ENFORCER
    with _LOCK:
        if _ENFORCER is not None:
            _ENFORCER.clear()
        _ENFORCER = None


def _credentials(context):
    values = context.to_policy_values()
    # A plain dict: oslo.context warns when policy code reads its is_admin.
    creds = {key: values[key] for key in values.keys() if key != 'is_admin'}
    # The 'admin' rule also accepts is_admin, which the context filter sets
    # from CONF.admin_roles (so an operator's admin role names count too).
    creds['is_admin'] = bool(context.is_admin)
    return creds


def authorize(context, rule, tenant=None, target=None):
    """Raise PolicyNotAuthorized unless ``context`` may do ``rule``.

    ``tenant`` is the owner of the resource acted on (default: the
    caller's project); ``target`` overrides the whole target dict.
    """
    if target is None:
        target = {'tenant': tenant if tenant is not None else context.project_id}
    try:
        return get_enforcer().authorize(rule, target, _credentials(context),
                                        do_raise=True,
                                        exc=exception.PolicyNotAuthorized, action=rule)
    except exception.PolicyNotAuthorized:
        LOG.info('Policy denied %s to project %s (roles %s)', rule,
                 context.project_id, context.roles)
        raise
