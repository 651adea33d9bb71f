"""Limits, quotas and the quota check of instance create on a real stack.

The guests of this stack are told an unreachable broker, so instances stay
in BUILD without starting database engines: quota accounting happens at API
time and does not need a running guest.
"""
import json
import re

import pytest

from tests.functional.helpers import mute_guest_stack


@pytest.fixture(scope='module')
def qstack():
    with mute_guest_stack(usage_timeout=600, tenant='tenant-q') as st:
        yield st


def _create(st, name):
    return st.request('POST', '/instances', {'instance': {
        'name': name, 'flavorRef': '1', 'volume': {'size': 1},
        'datastore': {'type': 'mariadb'}}})


def _usage(st):
    code, body = st.request('GET', '/mgmt/quotas/%s' % st.tenant)
    assert code == 200, body
    return {q['resource']: q for q in body['quotas']}


def test_limit_list_cli(qstack):
    # The CLI prints the ABSOLUTE entry as a property table, then the rates.
    out = qstack.cli('database', 'limit', 'list', '-f', 'json').stdout
    table, rates = out[:out.index('\n[')], json.loads(out[out.index('\n['):])
    absolute = dict(re.findall(r'\|\s*(max_\w+)\s*\|\s*(-?\d+)\s*\|', table))
    assert absolute == {'max_backups': '50', 'max_instances': '10', 'max_ram': '-1',
                        'max_volumes': '40'}
    assert sorted(r['Verb'] for r in rates) == ['DELETE', 'GET', 'POST', 'POST', 'PUT']
    assert all(r['Value'] == 200 and r['Unit'] == 'MINUTE' for r in rates)


def test_quota_cli_needs_keystone(qstack):
    # The CLI resolves the project through Keystone's identity API first,
    # which a keystone-less deployment does not have (reference 8.4).
    # With --os-auth-type none it asks this endpoint for /projects, which
    # trove does not serve, so the REST calls below stand in for the CLI.
    res = qstack.cli('database', 'quota', 'show', qstack.tenant, check=False)
    assert res.returncode != 0
    assert 'Failed to get project ID' in res.stdout + res.stderr


def test_quota_exceeded_then_freed_by_delete(qstack):
    st = qstack
    code, body = st.request('PUT', '/mgmt/quotas/%s' % st.tenant,
                            {'quotas': {'instances': 1}})
    assert (code, body) == (200, {'quotas': {'instances': 1}})
    code, body = _create(st, 'q1')
    assert code == 200, body
    first = body['instance']['id']
    code, body = _create(st, 'q2')
    assert code == 413, body
    assert body['overLimit']['message'] == "Quota exceeded for resources: ['instances']."
    code, body = st.request('GET', '/instances')
    assert [i['id'] for i in body['instances']] == [first]
    usage = _usage(st)
    assert usage['instances'] == {'resource': 'instances', 'in_use': 1, 'reserved': 0,
                                  'limit': 1}
    assert usage['volumes']['in_use'] == 1

    assert st.request('DELETE', '/instances/%s' % first)[0] == 202
    st.wait_instance(first, lambda c, b: c == 404, timeout=120)
    usage = _usage(st)
    assert usage['instances']['in_use'] == 0 and usage['instances']['reserved'] == 0
    code, body = _create(st, 'q3')
    assert code == 200, body
    third = body['instance']['id']
    assert st.request('DELETE', '/instances/%s' % third)[0] == 202
    st.wait_instance(third, lambda c, b: c == 404, timeout=120)
    assert st.local_servers() == [] and st.local_volumes() == []
