"""A page of instances costs a constant number of queries, whatever its size."""
import contextlib

import pytest
from sqlalchemy import event

from trove.conf import CONF

from trove.db import api as db_api
from trove.db import replicas
from trove.db.session import get_engine

from tests.unit.api.conftest import call
from tests.unit.api.test_configurations_api import _group, _instance, tm  # noqa: F401

T = '/v1.0/t1'


@contextlib.contextmanager
def counted():
    statements = []

    def count(conn, cursor, statement, *args):
        # Queries only: whether oslo.db emits its own BEGIN depends on the
        # pooled connection's history, not on the page.
        if not statement.lstrip().upper().startswith('BEGIN'):
            statements.append(statement)
    engine = get_engine()
    event.listen(engine, 'before_cursor_execute', count)
    try:
        yield statements
    finally:
        event.remove(engine, 'before_cursor_execute', count)


def _queries(app, path):
    call(app, 'GET', path)   # once first: one-time caches of the process are not the page's
    with counted() as statements:
        status, body = call(app, 'GET', path)
    assert status == 200, body
    return statements, body


@pytest.fixture
def big_pages():
    CONF.set_override('instances_page_size', 100)
    yield
    CONF.clear_override('instances_page_size')


def test_list_pages_use_a_constant_number_of_queries(app, tm, big_pages):  # noqa: F811
    group = _group(app)
    first = _instance(tm, configuration_id=group['id'])
    db_api.save_fault(first, 'an old fault')
    _instance(tm, slave_of_id=first)
    costs = {}
    for total in (2, 30):
        while len(db_api.list_instances('t1')) < total:
            _instance(tm)
        for path in ('/instances', '/instances/detail', '/mgmt/instances'):
            costs.setdefault(path, []).append(_queries(app, T + path)[0])
    for path, (small, large) in costs.items():
        # The statements differ only in their bound values, never in number.
        assert len(small) == len(large), (path, [q[:60] for q in small],
                                          [q[:60] for q in large])
        assert len(small) <= 8, (path, small)
    _n, body = _queries(app, T + '/instances/detail')
    shown = {i['id']: i for i in body['instances']}
    assert shown[first]['configuration']['name'] == group['name']
    assert shown[first]['fault']['message'] == 'an old fault'
    assert [r['id'] for r in shown[first]['replicas']] == replicas.replica_ids(first)
