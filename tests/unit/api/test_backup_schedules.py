"""Backup schedules API: create, list, show, delete; bad input changes nothing."""
import pytest

from trove.db import backup_schedules
from trove.db import api as db_api

from tests.unit.api.conftest import MEMBER, call
from tests.unit.api.test_backups import _instance, tm  # noqa: F401
from tests.unit.api.test_backups_pg_redis import _instance as redis_instance

T = '/v1.0/t1'


def _base(inst):
    return T + '/instances/%s/backup_schedules' % inst.id


def test_create_list_show_delete(app, tm):  # noqa: F811
    inst = _instance()
    status, body = call(app, 'POST', _base(inst), {'backup_schedule': {
        'name': 'nightly', 'pattern': '0 3 * * *', 'full_every': 7,
        'retention': {'count': 14, 'days': 30}}})
    assert status == 201, body
    made = body['backup_schedule']
    assert (made['pattern'], made['full_every'], made['retention']) == (
        '0 3 * * *', 7, {'count': 14, 'days': 30})
    assert made['next_run'].endswith('T03:00:00') and made['last_run'] is None
    listed = call(app, 'GET', _base(inst))[1]['backup_schedules']
    assert [s['id'] for s in listed] == [made['id']]
    assert call(app, 'GET', _base(inst) + '/' + made['id'])[1]['backup_schedule'][
        'name'] == 'nightly'
    assert call(app, 'DELETE', _base(inst) + '/' + made['id'])[0] == 202
    assert call(app, 'GET', _base(inst) + '/' + made['id'])[0] == 404
    assert backup_schedules.list_schedules(inst.id) == []


@pytest.mark.parametrize('fields,text', [
    ({'name': 'x', 'pattern': 'every night'}, 'invalid cron pattern'),
    ({'name': 'x', 'pattern': '0 3 * * *', 'full_every': 0}, ''),
    ({'name': 'x', 'pattern': '0 3 * * *', 'retention': {'count': -1}}, ''),
    ({'name': 'x', 'pattern': '0 3 * * *', 'unknown': 1}, ''),
    ({'pattern': '0 3 * * *'}, ''),
])
def test_bad_input_is_a_400_and_creates_nothing(app, tm, fields, text):  # noqa: F811
    inst = _instance()
    status, body = call(app, 'POST', _base(inst), {'backup_schedule': fields})
    assert status == 400, body
    assert text in body['badRequest']['message']
    assert backup_schedules.list_schedules(inst.id) == []


def test_refused_for_a_replica_other_tenants_and_incrementals_of_redis(app, tm,  # noqa: F811
                                                                     roles_header):
    inst = _instance()
    replica = db_api.create_instance(dict(
        name='r', tenant_id='t1', flavor_id='1', volume_size=2,
        datastore_version_id=inst.datastore_version_id, slave_of_id=inst.id))
    body = {'backup_schedule': {'name': 'x', 'pattern': '0 3 * * *'}}
    assert call(app, 'POST', _base(replica), body)[0] == 400
    other = _instance(tenant='t2')
    assert call(app, 'POST', _base(other), body, headers=MEMBER)[0] == 404
    redis = redis_instance('redis', '7.0')
    status, reply = call(app, 'POST', _base(redis), {'backup_schedule': dict(
        body['backup_schedule'], full_every=3)})
    assert status == 400 and 'full_every must be 1' in reply['badRequest']['message']
    assert call(app, 'POST', _base(redis), body)[0] == 201
