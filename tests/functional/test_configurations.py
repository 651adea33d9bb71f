"""Configuration groups, restart and resize on a real MariaDB through the real CLI.

One instance (flavor 2, 1 GB volume) is built with the CLI.  A group is
created, attached and edited with ``openstack database configuration ...``
and each effect is read inside the engine with PyMySQL (SHOW GLOBAL
VARIABLES as the user created with the instance): dynamic values live at
once, a static one only after ``instance restart`` (RESTART_REQUIRED in
between), defaults back after detach.  Bad values answer 400 and change
nothing.  Volume and flavor resizes finish in ACTIVE with the new size and
the flavor-sized buffer pool.  The tests run in file order on one instance.
"""
import json
import time

import pymysql
import pytest

from tests.functional.stack import engine_version

MB = 1024 * 1024
USER, PASSWORD = 'carol', 'C4rol-pw'


@pytest.fixture(scope='module')
def instance(stack):
    created = stack.cli_json(
        'database', 'instance', 'create', 'ft-cfg', '--flavor', '2', '--size', '1',
        '--datastore', 'mariadb', '--databases', 'app', '--users',
        '%s:%s' % (USER, PASSWORD))
    inst = _wait_ready(stack, created['id'])
    yield {'id': inst['id'], 'address': inst['addresses'][0]['address']}
    stack.cli('database', 'instance', 'delete', inst['id'])
    stack.wait_instance(inst['id'], lambda c, b: c == 404, timeout=120)


def _wait_ready(stack, instance_id, timeout=300):
    body = stack.wait_instance(
        instance_id, lambda c, b: c == 200 and (
            b['instance']['status'] == 'ERROR' or
            b['instance']['operating_status'] == 'HEALTHY'), timeout=timeout)
    inst = body['instance']
    assert inst['status'] == 'ACTIVE', inst
    return inst


def _wait_status(stack, instance_id, status, timeout=60):
    body = stack.wait_instance(instance_id, lambda c, b: c == 200 and (
        b['instance']['status'] in (status, 'ERROR')), timeout=timeout)
    assert body['instance']['status'] == status, body
    return body['instance']


def _var(instance, name):
    conn = pymysql.connect(host=instance['address'], port=3306, user=USER,
                           password=PASSWORD, connect_timeout=10)
    try:
        with conn.cursor() as cur:
            cur.execute('SHOW GLOBAL VARIABLES LIKE %s', (name,))
            row = cur.fetchone()
            return row[1] if row else None
    finally:
        conn.close()


def _wait_var(instance, name, expected, timeout=60):
    deadline = time.time() + timeout
    value = None
    while time.time() < deadline:
        value = _var(instance, name)
        if value == str(expected):
            return
        time.sleep(0.5)
    raise AssertionError('%s stayed %r, expected %r' % (name, value, expected))


def _group(stack, name):
    found = [g for g in stack.request('GET', '/configurations')[1]['configurations']
             if g['name'] == name]
    return found[0] if found else None


def test_parameter_catalogue(stack):
    params = stack.cli_json('database', 'configuration', 'parameter', 'list',
                            engine_version(), '--datastore', 'mariadb')
    by_name = {p['Name']: p for p in params}
    assert by_name['max_connections']['Type'] == 'integer'
    assert by_name['max_connections']['Min Size'] == 10
    assert by_name['innodb_buffer_pool_size']['Restart Required'] is True
    assert by_name['wait_timeout']['Restart Required'] is False
    code, body = stack.request('GET', '/datastores/mariadb/versions/%s/parameters/sql_mode'
                               % engine_version())
    assert code == 200 and body['type'] == 'string'


def test_invalid_values_are_refused(stack, instance):
    res = stack.cli('database', 'configuration', 'create', 'bad',
                    '{"max_connections": -5}', '--datastore', 'mariadb', check=False)
    assert res.returncode != 0
    assert 'max_connections' in res.stderr and 'minimum' in res.stderr
    for values, words in (({'max_connections': 'abc'}, 'not of type integer'),
                          ({'no_such_option': 1}, 'not supported')):
        code, body = stack.request('POST', '/configurations', {'configuration': {
            'name': 'bad', 'values': values, 'datastore': {'type': 'mariadb'}}})
        assert code == 400, body
        assert words in body['badRequest']['message']
        assert list(values)[0] in body['badRequest']['message']
    assert _group(stack, 'bad') is None


def test_attach_applies_dynamic_values_live(stack, instance):
    default = int(_var(instance, 'max_connections'))
    assert default == 256  # flavor 2 (1 GB): RAM / 4
    group = stack.cli_json('database', 'configuration', 'create', 'cfg1',
                           '{"max_connections": 77, "wait_timeout": 600}',
                           '--datastore', 'mariadb')
    stack.cli('database', 'configuration', 'attach', instance['id'], group['id'])
    # As upstream: live in the engine by the time the attach answers.
    assert _var(instance, 'max_connections') == '77'
    assert _var(instance, 'wait_timeout') == '600'
    # The same for an edit of the attached group (PATCH merges values).
    for value in (88, 77):
        code, _ = stack.request('PATCH', '/configurations/%s' % group['id'],
                                {'configuration': {'values': {'max_connections': value}}})
        assert code == 200
        assert _var(instance, 'max_connections') == str(value)
    shown = stack.request('GET', '/instances/%s' % instance['id'])[1]['instance']
    assert shown['configuration']['id'] == group['id']
    assert shown['configuration']['name'] == 'cfg1'
    assert shown['status'] == 'ACTIVE'
    users = stack.cli_json('database', 'configuration', 'instances', group['id'])
    assert [u['ID'] for u in users] == [instance['id']]
    # Attached groups cannot be deleted.
    code, body = stack.request('DELETE', '/configurations/%s' % group['id'])
    assert code == 400 and 'detach' in body['badRequest']['message']


def test_invalid_edit_changes_nothing(stack, instance):
    group = _group(stack, 'cfg1')
    code, body = stack.request('PATCH', '/configurations/%s' % group['id'],
                               {'configuration': {'values': {'max_connections': 'abc'}}})
    assert code == 400 and 'max_connections' in body['badRequest']['message']
    code, body = stack.request('GET', '/configurations/%s' % group['id'])
    assert body['configuration']['values'] == {'max_connections': 77, 'wait_timeout': 600}
    assert _var(instance, 'max_connections') == '77'


def test_static_value_needs_restart(stack, instance):
    group = _group(stack, 'cfg1')
    assert _var(instance, 'innodb_buffer_pool_size') == str(512 * MB)
    stack.cli('database', 'configuration', 'set', group['id'], json.dumps(
        {'max_connections': 77, 'wait_timeout': 600, 'innodb_buffer_pool_size': 256 * MB}))
    inst = _wait_status(stack, instance['id'], 'RESTART_REQUIRED')
    assert inst['operating_status'] == ''
    time.sleep(3)  # heartbeats (every 2 s) must not clear it
    assert stack.request('GET', '/instances/%s' % instance['id'])[1]['instance'][
        'status'] == 'RESTART_REQUIRED'
    assert _var(instance, 'innodb_buffer_pool_size') == str(512 * MB)
    stack.cli('database', 'instance', 'restart', instance['id'])
    _wait_ready(stack, instance['id'], timeout=120)
    assert _var(instance, 'innodb_buffer_pool_size') == str(256 * MB)
    assert _var(instance, 'max_connections') == '77'


def test_detach_restores_defaults(stack, instance):
    group = _group(stack, 'cfg1')
    stack.cli('database', 'configuration', 'detach', instance['id'])
    _wait_var(instance, 'max_connections', 256)
    _wait_var(instance, 'wait_timeout', 28800)
    # The static value changed back too: restart to get it.
    _wait_status(stack, instance['id'], 'RESTART_REQUIRED')
    stack.cli('database', 'instance', 'restart', instance['id'])
    inst = _wait_ready(stack, instance['id'], timeout=120)
    assert 'configuration' not in inst
    assert _var(instance, 'innodb_buffer_pool_size') == str(512 * MB)
    stack.cli('database', 'configuration', 'delete', group['id'])
    assert _group(stack, 'cfg1') is None


def test_resize_volume(stack, instance):
    stack.cli('database', 'instance', 'resize', 'volume', instance['id'], '2')
    inst = _wait_ready(stack, instance['id'], timeout=60)
    assert inst['volume']['size'] == 2
    res = stack.cli('database', 'instance', 'resize', 'volume', instance['id'], '1',
                    check=False)
    assert res.returncode != 0 and 'larger' in res.stderr
    code, body = stack.request('POST', '/instances/%s/action' % instance['id'],
                               {'resize': {'volume': {'size': 2}}})
    assert code == 400, body
    assert stack.request('GET', '/instances/%s' % instance['id'])[1]['instance'][
        'volume']['size'] == 2


def test_resize_flavor(stack, instance):
    code, body = stack.request('POST', '/instances/%s/action' % instance['id'],
                               {'resize': {'flavorRef': '2'}})
    assert code == 400 and 'different' in body['badRequest']['message']
    stack.cli('database', 'instance', 'resize', 'flavor', instance['id'], '3')
    inst = _wait_ready(stack, instance['id'], timeout=180)
    assert inst['flavor']['id'] == '3'
    assert 'fault' not in inst
    assert _var(instance, 'innodb_buffer_pool_size') == str(1024 * MB)  # 2 GB / 2
    assert _var(instance, 'max_connections') == '512'
