"""Quota reserve / commit / rollback against a real (SQLite) database."""
import pytest

from trove.common import exception, quota
from trove.conf import CONF
from trove.db import api as db_api


def _usage(tenant):
    return {u['resource']: u for u in quota.get_usage(tenant)}


def test_defaults_and_overrides(db):
    limits = quota.get_limits('p1')
    assert limits == {'instances': CONF.max_instances_per_tenant, 'ram': -1,
                      'volumes': 40, 'backups': 50}
    quota.set_limits('p1', {'instances': 1, 'backups': 0})
    assert quota.get_limits('p1')['instances'] == 1
    assert quota.get_limits('p1')['backups'] == 0
    assert quota.get_limits('p2')['instances'] == CONF.max_instances_per_tenant


def test_bad_limits_change_nothing(db):
    with pytest.raises(quota.QuotaResourceUnknown) as err:
        quota.set_limits('p1', {'instances': 3, 'cores': 1})
    assert err.value.code == 404
    with pytest.raises(exception.BadRequest):
        quota.set_limits('p1', {'instances': -2})
    assert quota.get_limits('p1')['instances'] == CONF.max_instances_per_tenant


def test_commit_moves_reservation_to_in_use(db):
    result = quota.run_with_quotas('p1', {'instances': 1, 'volumes': 3}, lambda: 'done')
    assert result == 'done'
    usage = _usage('p1')
    assert (usage['instances']['in_use'], usage['instances']['reserved']) == (1, 0)
    assert (usage['volumes']['in_use'], usage['volumes']['reserved']) == (3, 0)


def test_failing_fn_leaves_nothing_reserved(db):
    def boom():
        assert _usage('p1')['instances']['reserved'] == 1   # held while fn runs
        raise RuntimeError('cast failed')

    with pytest.raises(RuntimeError):
        quota.run_with_quotas('p1', quota.instance_deltas(+1, 512, 2), boom)
    usage = _usage('p1')
    for resource in ('instances', 'ram', 'volumes'):
        assert usage[resource]['reserved'] == 0, resource
        assert usage[resource]['in_use'] == 0, resource


def test_exceeded_names_resources_and_reserves_nothing(db):
    quota.set_limits('p1', {'instances': 1, 'volumes': 5})
    quota.run_with_quotas('p1', {'instances': 1, 'volumes': 2}, lambda: None)
    called = []
    with pytest.raises(exception.QuotaExceeded) as err:
        quota.run_with_quotas('p1', {'instances': 1, 'volumes': 2}, lambda: called.append(1))
    assert err.value.code == 413
    assert err.value.msg == "Quota exceeded for resources: ['instances']."
    assert called == []
    usage = _usage('p1')
    assert usage['volumes']['reserved'] == 0 and usage['volumes']['in_use'] == 2
    with pytest.raises(exception.QuotaExceeded) as err:
        quota.reserve('p1', {'instances': 1, 'volumes': 4})
    assert "['instances', 'volumes']" in err.value.msg


def test_unlimited_and_negative_deltas(db):
    quota.run_with_quotas('p1', {'ram': 10 ** 6}, lambda: None)    # ram is -1
    quota.run_with_quotas('p1', {'ram': -(10 ** 6) - 5}, lambda: None)
    assert _usage('p1')['ram']['in_use'] == 0     # never below zero
    quota.set_limits('p1', {'instances': 1})
    quota.run_with_quotas('p1', quota.instance_deltas(+1), lambda: None)
    quota.run_with_quotas('p1', quota.instance_deltas(-1), lambda: None)
    quota.run_with_quotas('p1', quota.instance_deltas(+1), lambda: None)
    assert _usage('p1')['instances']['in_use'] == 1


def test_pending_decrease_frees_nothing_until_commit(db):
    quota.set_limits('p1', {'backups': 1})
    quota.run_with_quotas('p1', quota.backup_deltas(+1), lambda: None)

    def create_while_deleting():
        with pytest.raises(exception.QuotaExceeded):
            quota.reserve('p1', quota.backup_deltas(+1))

    quota.run_with_quotas('p1', quota.backup_deltas(-1), create_while_deleting)
    assert _usage('p1')['backups']['in_use'] == 0


def test_new_usage_starts_from_existing_instances(db):
    for name in ('a', 'b'):
        db_api.create_instance(dict(name=name, tenant_id='p9', flavor_id='1',
                                    volume_size=2, datastore_version_id=None))
    usage = _usage('p9')
    assert usage['instances']['in_use'] == 2
    assert usage['volumes']['in_use'] == 4


def test_resize_deltas():
    assert quota.resize_deltas(old_ram=512, new_ram=2048) == {'ram': 1536, 'volumes': 0}
    assert quota.resize_deltas(old_volume=4, new_volume=2) == {'ram': 0, 'volumes': -2}
