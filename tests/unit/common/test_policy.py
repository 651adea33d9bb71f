"""Default policy rules: owners, admins, open reads and the sample's rule list."""
import pytest
from oslo_policy import policy as oslo_policy

from trove.common import exception, policies, policy
from trove.common.context import TroveContext


def _ctx(project='p1', roles=('member',), admin=False):
    return TroveContext(project_id=project, roles=list(roles), is_admin=admin)


def test_owner_allowed_other_project_denied():
    policy.authorize(_ctx(), 'instance:create')
    policy.authorize(_ctx(), 'instance:show', 'p1')
    with pytest.raises(exception.PolicyNotAuthorized) as err:
        policy.authorize(_ctx(), 'instance:delete', 'p2')
    assert err.value.code == 403
    assert 'instance:delete' in err.value.msg


@pytest.mark.parametrize('rule', ['instance:reset_status', 'mgmt:instance:index',
                                  'mgmt:datastore_version:create', 'quota:update',
                                  'datastore:delete', 'backup:index:all_projects'])
def test_admin_only_rules(rule):
    with pytest.raises(exception.PolicyNotAuthorized):
        policy.authorize(_ctx(), rule)
    policy.authorize(_ctx(roles=['admin'], admin=True), rule)


def test_admin_by_configured_role_name():
    # is_admin comes from CONF.admin_roles, which may name another role.
    policy.authorize(_ctx(roles=['cloud-operator'], admin=True), 'mgmt:instance:index')


def test_reads_open_to_any_project():
    policy.authorize(_ctx(project='x'), 'datastore:index', 'someone-else')
    policy.authorize(_ctx(project='x'), 'flavor:show', 'someone-else')


def test_rule_names_match_upstream():
    names = {r.name for r in policies.list_rules()}
    for name in ('instance:create', 'instance:delete', 'instance:show', 'instance:index',
                 'instance:update', 'instance:restart', 'instance:resize_flavor',
                 'instance:resize_volume', 'instance:reset_status',
                 'instance:extension:database:create', 'instance:extension:user:update_all',
                 'instance:extension:user_access:delete', 'instance:extension:root:create',
                 'configuration:edit', 'backup:create', 'backup_strategy:delete',
                 'limits:index', 'context_is_admin', 'admin_or_owner'):
        assert name in names, name
    assert len(names) == len(policies.list_rules())     # no duplicates


def test_unregistered_rule_is_a_programming_error():
    # A typo in a controller must fail loudly, not fall back to a default.
    with pytest.raises(oslo_policy.PolicyNotRegistered):
        policy.authorize(_ctx(), 'instance:crate')


def test_sample_file_lists_every_rule():
    # Regenerate with `tox -e genpolicy` when this fails.
    import os
    import re
    sample = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'etc', 'trove',
                          'policy.yaml.sample')
    with open(sample) as f:
        listed = re.findall(r'^#"([^"]+)": "([^"]*)"$', f.read(), re.M)
    assert listed == [(r.name, r.check_str) for r in policies.list_rules()]
