"""Parameter catalogue loading, value validation and configuration group queries."""
import json

import pytest

from trove.common import exception
from trove.db import configurations as cfg_db
from trove.db import datastores


@pytest.fixture
def version_id(db):
    ds = datastores.get_datastore('mariadb')
    version = datastores.get_version(ds.id, '10.11')
    cfg_db.load_parameters_file(version.id, cfg_db.rules_path('mariadb'))
    return version.id


def test_shipped_rules_file_is_complete():
    path = cfg_db.rules_path('mariadb')
    assert path == cfg_db.rules_path('mysql')  # the family shares it
    with open(path) as f:
        rules = {r['name']: r for r in json.load(f)['configuration-parameters']}
    for name in ('max_connections', 'wait_timeout', 'interactive_timeout',
                 'max_allowed_packet', 'long_query_time', 'slow_query_log',
                 'character_set_server', 'collation_server', 'sql_mode', 'tmp_table_size',
                 'max_heap_table_size', 'table_open_cache', 'thread_cache_size',
                 'key_buffer_size'):
        assert rules[name]['restart_required'] is False, name
    for name in ('innodb_buffer_pool_size', 'innodb_log_file_size'):
        assert rules[name]['restart_required'] is True, name
    assert all(r['type'] in cfg_db.DATA_TYPES for r in rules.values())
    assert cfg_db.rules_path('cassandra') is None


def test_load_is_an_idempotent_upsert(version_id):
    count = len(cfg_db.list_parameters(version_id))
    assert count >= 30
    cfg_db.load_parameters(version_id, {'configuration-parameters': [
        {'name': 'max_connections', 'type': 'integer', 'min': 1, 'max': 5,
         'restart_required': True}]})
    assert len(cfg_db.list_parameters(version_id)) == count
    param = cfg_db.get_parameter(version_id, 'max_connections')
    assert (param.min_size, param.max_size, param.restart_required) == ('1', '5', True)
    with pytest.raises(exception.BadRequest):
        cfg_db.load_parameters(version_id, {'configuration-parameters': [
            {'name': 'x', 'type': 'color'}]})


@pytest.mark.parametrize('values', [
    {'max_connections': 77},
    {'max_connections': 10},
    {'max_connections': 100000},
    {'long_query_time': 0.5},
    {'long_query_time': 2},
    {'slow_query_log': True},
    {'slow_query_log': 0},
    {'sql_mode': 'STRICT_TRANS_TABLES'},
    {'innodb_buffer_pool_size': 268435456, 'wait_timeout': 600},
    {},
])
def test_valid_values(version_id, values):
    cfg_db.validate_values(version_id, values)


@pytest.mark.parametrize('values, words', [
    ({'max_connections': -5}, 'max_connections is less than the minimum allowed: 10'),
    ({'max_connections': 100001}, 'max_connections is greater than the maximum'),
    ({'max_connections': 'abc'}, 'max_connections is not of type integer'),
    ({'max_connections': '77'}, 'max_connections is not of type integer'),
    ({'max_connections': 7.5}, 'max_connections is not of type integer'),
    ({'max_connections': True}, 'max_connections is not of type integer'),
    ({'long_query_time': 'slow'}, 'long_query_time is not of type float'),
    ({'long_query_time': -1}, 'long_query_time is less than the minimum'),
    ({'slow_query_log': 'yes'}, 'slow_query_log is not of type boolean'),
    ({'slow_query_log': 2}, 'slow_query_log is not of type boolean'),
    ({'sql_mode': 5}, 'sql_mode is not of type string'),
    ({'sql_mode': 'A\nskip-grant-tables'}, 'sql_mode contains characters'),
    ({'sql_mode': 'x' * 200}, 'sql_mode is longer than'),
    ({'no_such_option': 1}, 'no_such_option is not supported'),
])
def test_invalid_values_name_the_key(version_id, values, words):
    with pytest.raises(exception.BadRequest) as err:
        cfg_db.validate_values(version_id, values)
    assert words in err.value.msg


def test_values_must_be_an_object(version_id):
    with pytest.raises(exception.BadRequest):
        cfg_db.validate_values(version_id, ['max_connections'])


def test_group_crud_keeps_value_types(version_id):
    row = cfg_db.create_configuration('t1', 'g1', 'desc', version_id,
                                      {'max_connections': 77, 'sql_mode': 'ANSI',
                                       'slow_query_log': True, 'long_query_time': 0.5})
    assert cfg_db.get_values(row.id) == {'max_connections': 77, 'sql_mode': 'ANSI',
                                         'slow_query_log': True, 'long_query_time': 0.5}
    assert cfg_db.get_configuration(row.id, 't1').name == 'g1'
    with pytest.raises(cfg_db.ConfigurationNotFound):
        cfg_db.get_configuration(row.id, 't2')
    cfg_db.save_group(row.id, {'wait_timeout': 9}, name='g2')
    assert cfg_db.get_values(row.id) == {'wait_timeout': 9}
    assert cfg_db.config_name(row.id) == 'g2'
    assert [r.id for r in cfg_db.list_configurations('t1')] == [row.id]
    assert cfg_db.list_configurations('t2') == []
    assert cfg_db.instance_count(row.id) == 0
    cfg_db.delete_configuration(row.id)
    with pytest.raises(cfg_db.ConfigurationNotFound):
        cfg_db.get_configuration(row.id)
    assert cfg_db.list_configurations('t1') == []
