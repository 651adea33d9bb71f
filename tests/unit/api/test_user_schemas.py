"""The database, user and root request schemas accept what troveclient sends."""
import pytest

from trove.api import wsgi
from trove.api.schemas import databases, users
from trove.common import exception


@pytest.mark.parametrize('schema, body', [
    (databases.create, {'databases': [{'name': 'd1', 'character_set': 'utf8',
                                       'collate': 'utf8_general_ci'}]}),
    (users.create, {'users': [{'name': 'u1', 'password': 'p1', 'host': '%',
                               'databases': [{'name': 'd1'}]}]}),
    (users.create, {'users': [{'name': 'u1', 'password': 'p1', 'host': '10.0.%'}]}),
    (users.update, {'user': {'name': 'u2', 'host': '127.0.0.1', 'password': 'p2'}}),
    (users.update_all, {'users': [{'name': 'u1', 'password': 'p1'}]}),
    (users.grant, {'databases': [{'name': 'd1'}, {'name': 'd2'}]}),
    (users.root_create, {}),
    (users.root_create, {'password': 'p1'}),
    (users.root_create, {'password': None}),
])
def test_valid(schema, body):
    wsgi.validate(schema, body)


@pytest.mark.parametrize('schema, body', [
    (databases.create, {'databases': [{'name': '---'}]}),
    (databases.create, {'database': [{'name': 'd1'}]}),
    (users.create, {'users': [{'name': 'u1', 'password': 'p1', 'host': 'a b'}]}),
    (users.create, {'users': [{'name': 'u1', 'password': 'p1', 'databases': ['d1']}]}),
    (users.update, {'user': {'password': ''}}),
    (users.update, {'user': {'databases': []}}),
    (users.update_all, {'users': [{'password': 'p1'}]}),
    (users.grant, {'databases': [{}]}),
    (users.root_create, {'password': 12}),
])
def test_invalid(schema, body):
    with pytest.raises(exception.BadRequest) as info:
        wsgi.validate(schema, body)
    assert info.value.msg.startswith('Validation error:')
