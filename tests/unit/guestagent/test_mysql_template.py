"""Flavor-sized engine configuration from the Jinja2 template."""
import pytest

from trove.common import template


def _mb(value):
    assert value.endswith('M')
    return int(value[:-1])


def test_bigger_flavor_gets_bigger_buffer_pool():
    small = template.config_values('mariadb', 1024)
    big = template.config_values('mariadb', 4096)
    assert _mb(small['innodb_buffer_pool_size']) < _mb(big['innodb_buffer_pool_size'])
    assert small['max_connections'] < big['max_connections']
    assert _mb(small['tmp_table_size']) <= _mb(big['tmp_table_size'])


def test_small_flavor_has_sensible_minimums():
    values = template.config_values('mariadb', 512)
    assert _mb(values['innodb_buffer_pool_size']) >= 128
    assert values['max_connections'] >= 100
    assert _mb(values['tmp_table_size']) >= 16
    assert values['tmp_table_size'] == values['max_heap_table_size']


def test_buffer_pool_never_exceeds_flavor_ram():
    for ram in (512, 1024, 2048, 16384):
        assert _mb(template.config_values('mariadb', ram)['innodb_buffer_pool_size']) < ram


def test_render_is_an_ini_section_and_mysql_uses_the_family_template():
    text = template.render_config('mysql', 2048)
    assert text.startswith('[mysqld]\n')
    assert text == template.render_config('mariadb', 2048)


def test_unknown_manager_is_an_error():
    with pytest.raises(ValueError):
        template.render_config('nosuchdb', 1024)


def test_parse_config_types():
    assert template.parse_config('[x]\n# c\na = 10\nb = 2M\nflag\n') == {
        'a': 10, 'b': '2M', 'flag': True}
