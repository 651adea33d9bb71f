"""``/instances/{id}/log`` through the paste app, with the real guest manager
and guest_log module over an in-memory engine with tmp log files."""
import os

import pytest

from tests.unit.api.conftest import call
from tests.unit.api.test_users_databases import FakeGuest, _instance
from tests.unit.fake_engine import MemoryEngine
from trove.api.controllers import guest_access
from trove.backup.stores import local
from trove.common import states
from trove.conf import CONF
from trove.guestagent import guest_log, manager

MEMBER = {'X-Roles': 'member'}


class LogMemoryEngine(MemoryEngine):
    def __init__(self, log_dir):
        super().__init__()
        self.general = os.path.join(log_dir, 'general.log')
        self.on = False

    def _set(self, on):
        self.on = on

    def log_definitions(self):
        return [guest_log.LogDefinition('general', guest_log.USER, self.general,
                                        enabled=lambda: self.on, set_enabled=self._set),
                guest_log.LogDefinition('guest', guest_log.SYS, self.general + '.agent')]


@pytest.fixture
def guest(monkeypatch, tmp_path):
    overrides = {'guest_state_dir': str(tmp_path / 'state'), 'guest_id': 'inst-1',
                 'datastore_manager': 'mariadb', 'noauth_trust_roles_header': True}
    for key, value in overrides.items():
        CONF.set_override(key, value)
    fake = FakeGuest()
    fake.engine = LogMemoryEngine(str(tmp_path))
    fake.manager = manager.Manager(engine=fake.engine, reporter=fake.manager.reporter)
    store = local.LocalStore(str(tmp_path / 'store'))
    fake.manager.logs = guest_log.GuestLogs(fake.engine, store_factory=lambda: store)
    fake.store = store
    monkeypatch.setattr(guest_access, 'get_guest', lambda ctx, iid: fake)
    yield fake
    for key in overrides:
        CONF.clear_override(key)


@pytest.fixture
def base(app, guest):
    return '/v1.0/t1/instances/%s/log' % _instance()


def test_list_shapes(app, guest, base):
    code, body = call(app, 'GET', base)
    assert code == 200
    assert body['logs'][0] == {
        'name': 'general', 'type': 'USER', 'status': 'Disabled', 'published': 0,
        'pending': 0, 'container': 'database_logs', 'prefix': 'inst-1/mariadb-general/',
        'metafile': 'inst-1/mariadb-general_metafile'}
    assert [log['name'] for log in body['logs']] == ['general', 'guest']


def test_show_enable_publish_discard_disable(app, guest, base):
    code, body = call(app, 'POST', base, {'name': 'general'})
    assert (code, body['log']['status']) == (200, 'Disabled')
    code, body = call(app, 'POST', base, {'name': 'general', 'enable': 1})
    assert (code, body['log']['status']) == (200, 'Enabled')
    with open(guest.engine.general, 'ab') as f:
        f.write(b'SELECT 1;\n')
    code, body = call(app, 'POST', base, {'name': 'general', 'publish': True})
    assert (code, body['log']['published'], body['log']['pending']) == (200, 10, 0)
    assert ('guest_log_action', {'log_name': 'general', 'enable': False, 'disable': False,
                                 'publish': True, 'discard': False}) in guest.calls
    code, body = call(app, 'POST', base, {'name': 'general', 'discard': 1})
    assert (code, body['log']['published'], body['log']['pending']) == (200, 0, 10)
    code, body = call(app, 'POST', base, {'name': 'general', 'disable': 1})
    assert (code, body['log']['status']) == (200, 'Disabled')


@pytest.mark.parametrize('body', [
    {'name': 'general', 'enable': 1, 'publish': 1},
    {'enable': 1},
    {'name': 'general', 'enable': 2},
    {'name': 'general', 'bogus': 1},
])
def test_bad_bodies(app, guest, base, body):
    code, resp = call(app, 'POST', base, body)
    assert code == 400, resp
    assert 'badRequest' in resp


def test_unknown_log_and_instance(app, guest, base):
    code, body = call(app, 'POST', base, {'name': 'nope', 'publish': 1})
    assert code == 404 and 'itemNotFound' in body
    assert call(app, 'GET', '/v1.0/t1/instances/missing/log')[0] == 404
    assert call(app, 'POST', '/v1.0/t1/instances/missing/log', {'name': 'general'})[0] == 404


def test_sys_log_rules(app, guest, base):
    assert call(app, 'POST', base, {'name': 'guest', 'enable': 1})[0] == 400
    code, body = call(app, 'POST', base, {'name': 'guest'})
    assert (code, body['log']['type']) == (200, 'SYS')
    # Non-admins neither see SYS logs nor may name them.
    code, body = call(app, 'GET', base, headers=MEMBER)
    assert [log['name'] for log in body['logs']] == ['general']
    code, body = call(app, 'POST', base, {'name': 'guest', 'publish': 1}, headers=MEMBER)
    assert code == 403 and 'forbidden' in body
    assert call(app, 'POST', base, {'name': 'guest'}, headers=MEMBER)[0] == 403
    assert call(app, 'POST', base, {'name': 'general', 'enable': 1}, headers=MEMBER)[0] == 200


def test_instance_not_ready(app, guest):
    iid = _instance(service=states.ServiceStatus.SHUTDOWN)
    code, body = call(app, 'GET', '/v1.0/t1/instances/%s/log' % iid)
    assert code == 422 and 'unprocessableEntity' in body
