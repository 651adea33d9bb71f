"""Configuration groups on real PostgreSQL and Redis through the real CLI,
and the admin instance actions.

PostgreSQL: a group attached with ``openstack database configuration
attach`` is visible in ``SHOW`` at once for dynamic options (reload); a
restart-required one waits in RESTART_REQUIRED until ``instance restart``;
bad values answer 400 and change nothing; detach goes back to the flavor
template.  Then the mgmt actions: ``stop`` (SHUTDOWN), ``instance reboot``
(the server is power-cycled and the database comes back), reset-task-status.
Redis: an instance created with ``--configuration`` starts with the group's
values, and an attached group is CONFIG SET live (CONFIG GET shows it).
"""
import json
import time

import psycopg
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.functional import helpers

PG_USER, PG_PW = 'pat', 'P4t-secret'


@pytest.fixture(scope='module')
def stack():
    with helpers.pg_redis_stack() as st:
        yield st


def _create(stack, name, datastore, *extra):
    created = stack.cli_json('database', 'instance', 'create', name, '--flavor', '2',
                             '--size', '1', '--datastore', datastore,
                             '--datastore-version', stack.versions[datastore], *extra)
    return created['id']


def _wait(stack, instance_id, status='ACTIVE', operating='HEALTHY', timeout=300):
    body = stack.wait_instance(instance_id, lambda c, b: c == 200 and (
        b['instance']['status'] == 'ERROR' or (
            b['instance']['status'] == status and
            (operating is None or b['instance'].get('operating_status') == operating))),
        timeout=timeout)
    assert body['instance']['status'] == status, body
    return body['instance']


def _delete(stack, instance_id):
    stack.cli('database', 'instance', 'delete', instance_id)
    stack.wait_instance(instance_id, lambda c, b: c == 404, timeout=120)


@pytest.fixture(scope='module')
def pg(stack):
    iid = _create(stack, 'ft-pg-cfg', 'postgresql', '--databases', 'app',
                  '--users', '%s:%s' % (PG_USER, PG_PW))
    inst = _wait(stack, iid)
    yield {'id': iid, 'address': inst['addresses'][0]['address']}
    _delete(stack, iid)


def _show(pg, name):
    with psycopg.connect(host=pg['address'], port=5432, user=PG_USER, password=PG_PW,
                         dbname='app', connect_timeout=10) as conn:
        return conn.execute('SHOW %s' % name).fetchone()[0]


def _until(read, expected, timeout=60):
    deadline = time.time() + timeout
    value = None
    while time.time() < deadline:
        value = read()
        if value == expected:
            return
        time.sleep(0.5)
    raise AssertionError('value stayed %r, expected %r' % (value, expected))


def _group(stack, name, values, datastore):
    return stack.cli_json('database', 'configuration', 'create', name, json.dumps(values),
                          '--datastore', datastore,
                          '--datastore-version', stack.versions[datastore])


def test_catalogues_are_loaded(stack):
    pg = {p['Name']: p for p in stack.cli_json(
        'database', 'configuration', 'parameter', 'list', stack.versions['postgresql'],
        '--datastore', 'postgresql')}
    assert pg['shared_buffers']['Restart Required'] is True
    assert pg['work_mem']['Restart Required'] is False
    assert pg['work_mem']['Type'] == 'integer'
    rd = {p['Name']: p for p in stack.cli_json(
        'database', 'configuration', 'parameter', 'list', stack.versions['redis'],
        '--datastore', 'redis')}
    assert rd['maxmemory-policy']['Type'] == 'string'
    assert rd['timeout']['Restart Required'] is False


def test_invalid_values_are_refused(stack):
    for values, words in (({'work_mem': 10}, 'minimum'),
                          ({'shared_buffers': 'lots'}, 'not of type integer'),
                          ({'data_directory': '/tmp'}, 'not supported')):
        code, body = stack.request('POST', '/configurations', {'configuration': {
            'name': 'bad', 'values': values, 'datastore': {
                'type': 'postgresql', 'version': stack.versions['postgresql']}}})
        assert code == 400, body
        assert words in body['badRequest']['message'], body
    names = [g['name'] for g in stack.request('GET', '/configurations')[1]['configurations']]
    assert 'bad' not in names


def test_pg_attach_applies_dynamic_values(stack, pg):
    assert _show(pg, 'work_mem') == '8MB'  # flavor 2 (1 GB) template
    group = _group(stack, 'pg1', {'work_mem': 16384, 'statement_timeout': 4000},
                   'postgresql')
    stack.cli('database', 'configuration', 'attach', pg['id'], group['id'])
    _until(lambda: _show(pg, 'work_mem'), '16MB')
    _until(lambda: _show(pg, 'statement_timeout'), '4s')
    inst = _wait(stack, pg['id'])
    assert inst['configuration']['id'] == group['id']
    # A bad edit is refused and the engine keeps the group's values.
    code, body = stack.request('PATCH', '/configurations/%s' % group['id'], {
        'configuration': {'values': {'work_mem': 'huge'}}})
    assert code == 400 and 'work_mem' in body['badRequest']['message']
    assert _show(pg, 'work_mem') == '16MB'
    pg['group'] = group['id']


def test_pg_restart_required_value(stack, pg):
    assert _show(pg, 'shared_buffers') == '256MB'
    stack.cli('database', 'configuration', 'set', pg['group'], '{"work_mem": 16384, '
              '"statement_timeout": 4000, "shared_buffers": 4096}')
    _wait(stack, pg['id'], status='RESTART_REQUIRED', operating=None, timeout=60)
    assert _show(pg, 'shared_buffers') == '256MB'
    stack.cli('database', 'instance', 'restart', pg['id'])
    _wait(stack, pg['id'], timeout=120)
    assert _show(pg, 'shared_buffers') == '32MB'  # 4096 pages of 8 kB
    assert _show(pg, 'work_mem') == '16MB'


def test_pg_detach_restores_template(stack, pg):
    stack.cli('database', 'configuration', 'detach', pg['id'])
    _until(lambda: _show(pg, 'work_mem'), '8MB')
    _until(lambda: _show(pg, 'statement_timeout'), '0')
    _wait(stack, pg['id'], status='RESTART_REQUIRED', operating=None, timeout=60)
    stack.cli('database', 'instance', 'restart', pg['id'])
    inst = _wait(stack, pg['id'], timeout=120)
    assert 'configuration' not in inst
    assert _show(pg, 'shared_buffers') == '256MB'
    stack.cli('database', 'configuration', 'delete', pg['group'])


def test_mgmt_stop_reboot_and_reset(stack, pg):
    path = '/mgmt/instances/%s/action' % pg['id']
    assert stack.request('POST', path, {'stop': {}, 'reboot': {}})[0] == 400
    assert stack.request('POST', path, {'migrate': {}})[0] == 501
    assert stack.request('POST', path, {'stop': {}})[0] == 202
    _wait(stack, pg['id'], operating='SHUTDOWN', timeout=60)
    with pytest.raises(psycopg.OperationalError):
        _show(pg, 'work_mem')
    stack.cli('database', 'instance', 'reboot', pg['id'])
    inst = _wait(stack, pg['id'], timeout=180)
    assert 'fault' not in inst, inst
    assert _show(pg, 'work_mem') == '8MB'
    assert stack.request('POST', path, {'reset-task-status': {}})[0] == 202
    _wait(stack, pg['id'])


def _redis_get(client, name):
    return client.config_get(name)[name]


def test_redis_create_with_configuration_and_attach(stack):
    first = _group(stack, 'rd1', {'maxmemory-policy': 'allkeys-lru', 'timeout': 300},
                   'redis')
    # A group of another datastore version is refused before anything is built.
    code, body = stack.request('POST', '/instances', {'instance': {
        'name': 'wrong', 'flavorRef': '2', 'volume': {'size': 1},
        'configuration': first['id'],
        'datastore': {'type': 'postgresql', 'version': stack.versions['postgresql']}}})
    assert code == 400 and 'another datastore version' in body['badRequest']['message']
    iid = _create(stack, 'ft-redis-cfg', 'redis', '--configuration', first['id'])
    try:
        inst = _wait(stack, iid)
        assert inst['configuration']['id'] == first['id']
        password = stack.cli_json('database', 'root', 'enable', iid)['password']
        client = redis.Redis(host=inst['addresses'][0]['address'], port=6379,
                             password=password, socket_timeout=10,
                             retry=Retry(NoBackoff(), 0))
        assert _redis_get(client, 'maxmemory-policy') == 'allkeys-lru'
        assert _redis_get(client, 'timeout') == '300'
        stack.cli('database', 'configuration', 'detach', iid)
        _until(lambda: _redis_get(client, 'maxmemory-policy'), 'noeviction')
        second = _group(stack, 'rd2', {'maxmemory-policy': 'volatile-lfu', 'hz': 25},
                        'redis')
        stack.cli('database', 'configuration', 'attach', iid, second['id'])
        _until(lambda: _redis_get(client, 'maxmemory-policy'), 'volatile-lfu')
        assert _redis_get(client, 'hz') == '25'
        assert _wait(stack, iid)['status'] == 'ACTIVE'
        client.close()
    finally:
        _delete(stack, iid)
