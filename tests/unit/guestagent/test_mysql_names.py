"""Name validation of the mysql-family engine rules out injection."""
import pytest

from trove.common import exception
from trove.guestagent.engines.mysql import names


@pytest.mark.parametrize('name', ['shop', 'Shop_2', 'a-b', 'a.b', 'x' * 64])
def test_good_database_names(name):
    assert names.database_name(name) == name


@pytest.mark.parametrize('name', ['', None, 'x' * 65, 'a`b', "a'b", 'a b', 'a;drop',
                                  'a/b', 'a\\b', 'ä', 'a%', 'a\nb', 3])
def test_bad_database_names(name):
    with pytest.raises(exception.BadRequest):
        names.database_name(name)


def test_user_name_length_limit_is_80():
    assert names.user_name('u' * 80)
    with pytest.raises(exception.BadRequest):
        names.user_name('u' * 81)


@pytest.mark.parametrize('name', ["bob'@'%", 'bob"', 'bob@x', 'bob--'])
def test_bad_user_names(name):
    if name == 'bob--':
        assert names.user_name(name) == name  # dashes are allowed characters
        return
    with pytest.raises(exception.BadRequest):
        names.user_name(name)


def test_host_defaults_to_any_and_allows_wildcards():
    assert names.host(None) == '%'
    assert names.host('10.0.0.%') == '10.0.0.%'
    assert names.host('10.0.0.0/255.0.0.0') == '10.0.0.0/255.0.0.0'
    with pytest.raises(exception.BadRequest):
        names.host("%' OR '1")


def test_charset_validation():
    assert names.charset('Character set', None) is None
    assert names.charset('Collation', 'utf8mb4_general_ci') == 'utf8mb4_general_ci'
    with pytest.raises(exception.BadRequest):
        names.charset('Character set', 'utf8; DROP')


def test_quote_ident_doubles_backticks():
    assert names.quote_ident('a`b') == '`a``b`'
