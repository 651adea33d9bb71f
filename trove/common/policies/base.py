"""Base rules every other rule builds on."""
from oslo_policy import policy

RULE_ADMIN = 'rule:admin'
RULE_ADMIN_OR_OWNER = 'rule:admin_or_owner'
RULE_ANY = ''

rules = [
    policy.RuleDefault('context_is_admin', 'role:admin',
                       description='Who is an administrator.'),
    policy.RuleDefault('admin', 'role:admin or is_admin:True',
                       description='Administrator rule used by admin-only APIs.'),
    policy.RuleDefault('admin_or_owner', 'rule:admin or project_id:%(tenant)s',
                       description='An administrator or the project owning the resource.'),
    policy.RuleDefault('default', RULE_ADMIN_OR_OWNER,
                       description='Rule of any action with no rule of its own.'),
]


def operations(prefix, path, specs, default=RULE_ADMIN_OR_OWNER):
    """DocumentedRuleDefaults ``prefix:name`` from ``(name, method, suffix[, rule])``."""
    result = []
    for spec in specs:
        name, method, suffix = spec[:3]
        check = spec[3] if len(spec) > 3 else default
        route, _sep, note = suffix.partition(' (')
        words = '%s %s' % (prefix.replace(':', ' '), name.replace(':', ' ').replace('_', ' '))
        result.append(policy.DocumentedRuleDefault(
            name='%s:%s' % (prefix, name), check_str=check,
            description='Allows %s%s.' % (words, ' (%s' % note if note else ''),
            operations=[{'path': path + route, 'method': method}]))
    return result


def list_rules():
    return rules
