"""trove.guestagent.guest_log with a fake engine, tmp log files and a local store."""
import json
import os

import pytest

from trove.backup.stores import local
from trove.common import exception
from trove.conf import CONF
from trove.guestagent import guest_log
from trove.guestagent.engines import base


class LogEngine(base.Engine):
    """An engine with one USER log (switchable) and one SYS log."""

    def __init__(self, log_dir):
        self.general = os.path.join(log_dir, 'general.log')
        self.error = os.path.join(log_dir, 'error.log')
        self.on = False
        self.switched = []

    def _set(self, on):
        self.switched.append(on)
        self.on = on

    def log_definitions(self):
        return [guest_log.LogDefinition('general', guest_log.USER, self.general,
                                        enabled=lambda: self.on, set_enabled=self._set),
                guest_log.LogDefinition('error', guest_log.SYS, self.error),
                guest_log.LogDefinition('guest', guest_log.SYS, None)]

    prepare = start = stop = create_databases = delete_database = lambda *a: None
    list_databases = create_users = delete_user = list_users = lambda *a: None
    status = lambda self: 'healthy'  # noqa: E731


@pytest.fixture
def env(tmp_path):
    overrides = {'guest_state_dir': str(tmp_path / 'state'), 'guest_id': 'inst-1',
                 'datastore_manager': 'mariadb', 'guest_log_limit': 1000}
    for key, value in overrides.items():
        CONF.set_override(key, value)
    (tmp_path / 'log').mkdir()
    engine = LogEngine(str(tmp_path / 'log'))
    store = local.LocalStore(str(tmp_path / 'store'))
    logs = guest_log.GuestLogs(engine, store_factory=lambda: store)
    yield engine, logs, store
    for key in overrides:
        CONF.clear_override(key)


def _append(path, data):
    with open(path, 'ab') as f:
        f.write(data)


def _objects(store):
    found = []
    for dirpath, _dirs, names in os.walk(store.root):
        found += [os.path.relpath(os.path.join(dirpath, n), store.root)
                  for n in names if not n.endswith(local.META_SUFFIX)]
    return sorted(found)


def test_list_shapes_and_statuses(env):
    engine, logs, _store = env
    listed = {log['name']: log for log in logs.list()}
    assert listed['general'] == {
        'name': 'general', 'type': 'USER', 'status': 'Disabled', 'published': 0,
        'pending': 0, 'container': 'database_logs', 'prefix': 'inst-1/mariadb-general/',
        'metafile': 'inst-1/mariadb-general_metafile'}
    assert listed['error']['status'] == 'Enabled'  # SYS: always on, empty yet
    assert listed['guest']['status'] == 'Unavailable'
    _append(engine.error, b'boom\n')
    assert {log['name']: log for log in logs.list()}['error']['status'] == 'Ready'


def test_enable_disable_call_the_engine(env):
    engine, logs, _store = env
    assert logs.action('general', enable=True)['status'] == 'Enabled'
    _append(engine.general, b'SELECT 1\n')
    assert logs.action('general')['status'] == 'Ready'
    assert logs.action('general', disable=True)['status'] == 'Disabled'
    assert engine.switched == [True, False]


def test_publish_uploads_new_bytes_then_only_the_delta(env):
    engine, logs, store = env
    logs.action('general', enable=True)
    _append(engine.general, b'one\ntwo\n')
    log = logs.action('general', publish=True)
    assert (log['status'], log['published'], log['pending']) == ('Published', 8, 0)
    first, meta = _objects(store)
    assert first.startswith('database_logs/inst-1/mariadb-general/log-')
    assert meta == 'database_logs/inst-1/mariadb-general_metafile'
    _append(engine.general, b'three\n')
    assert logs.action('general')['status'] == 'Partial'
    assert logs.action('general')['pending'] == 6
    log = logs.action('general', publish=True)
    assert (log['published'], log['pending']) == (14, 0)
    parts = [p for p in _objects(store) if '/log-' in p]
    contents = [open(os.path.join(store.root, p), 'rb').read() for p in sorted(parts)]
    assert contents == [b'one\ntwo\n', b'three\n']
    meta_path = os.path.join(store.root, 'database_logs', 'inst-1', 'mariadb-general_metafile')
    meta = json.load(open(meta_path))
    assert meta['published'] == 14 and [o['lines'] for o in meta['objects']] == [2, 1]
    # Nothing new: nothing uploaded.
    logs.action('general', publish=True)
    assert len([p for p in _objects(store) if '/log-' in p]) == 2


def test_publish_limit_keeps_the_newest_bytes(env):
    engine, logs, store = env
    _append(engine.error, b'a' * 1500 + b'b' * 500)
    log = logs.action('error', publish=True)
    assert (log['published'], log['pending']) == (1000, 0)
    [part] = [p for p in _objects(store) if '/log-' in p]
    assert open(os.path.join(store.root, part), 'rb').read() == b'a' * 500 + b'b' * 500


def test_rotated_file_is_published_from_the_start(env):
    engine, logs, _store = env
    _append(engine.error, b'0123456789')
    logs.action('error', publish=True)
    os.truncate(engine.error, 0)
    _append(engine.error, b'new\n')
    assert logs.action('error')['status'] == 'Rotated'
    log = logs.action('error', publish=True)
    assert (log['status'], log['published'], log['pending']) == ('Published', 14, 0)


def test_discard_deletes_objects_and_resets(env):
    engine, logs, store = env
    _append(engine.error, b'x\n')
    logs.action('error', publish=True)
    assert _objects(store)
    log = logs.action('error', discard=True)
    assert (log['published'], log['pending'], log['status']) == (0, 2, 'Ready')
    assert _objects(store) == []


def test_state_survives_a_new_instance(env):
    engine, logs, store = env
    _append(engine.error, b'x\n')
    logs.action('error', publish=True)
    again = guest_log.GuestLogs(engine, store_factory=lambda: store)
    assert again.action('error')['published'] == 2


def test_errors(env):
    _engine, logs, _store = env
    with pytest.raises(exception.BadRequest):
        logs.action('error', enable=True)
    with pytest.raises(exception.BadRequest):
        logs.action('error', disable=True)
    with pytest.raises(exception.BadRequest):
        logs.action('general', enable=True, publish=True)
    with pytest.raises(exception.BadRequest):
        logs.action('guest', publish=True)  # unavailable
    with pytest.raises(exception.LogNotFound) as info:
        logs.action('nope')
    assert info.value.code == 404


def test_engine_failure_falls_back_to_the_last_setting(env):
    engine, logs, _store = env
    logs.action('general', enable=True)

    def down():
        raise OSError('socket gone')
    broken = guest_log.LogDefinition('general', guest_log.USER, engine.general, enabled=down)
    engine.log_definitions = lambda: [broken]
    assert logs.list()[0]['status'] == 'Enabled'


def test_agent_log_path(tmp_path):
    CONF.set_override('log_file', 'agent.log')
    CONF.set_override('log_dir', str(tmp_path))
    try:
        assert guest_log.agent_log_path() == str(tmp_path / 'agent.log')
        assert guest_log.agent_log() == guest_log.LogDefinition(
            'guest', guest_log.SYS, str(tmp_path / 'agent.log'))
    finally:
        CONF.clear_override('log_file')
        CONF.clear_override('log_dir')


def test_base_engine_offers_the_agent_log(env):
    class Bare(LogEngine):
        log_definitions = base.Engine.log_definitions
    [only] = Bare('/nonexistent').log_definitions()
    assert (only.name, only.type) == ('guest', 'SYS')


class FakeAdmin:
    def __init__(self, rows=None):
        self.sql = []
        self.rows = rows or [(1,)]

    def execute(self, sql, args=None):
        self.sql.append((sql, args))
        return self.rows


def test_mariadb_logs_switch_live_and_persist(tmp_path):
    from trove.guestagent.engines.mysql import config, logs
    paths = config.Paths(datadir=str(tmp_path / 'data'), run_dir=str(tmp_path / 'run'),
                         log_dir=str(tmp_path / 'log'), state_dir=str(tmp_path))
    admin = FakeAdmin()
    defs = {d.name: d for d in logs.definitions(paths, admin)}
    assert [(n, d.type) for n, d in defs.items()] == [
        ('general', 'USER'), ('slow_query', 'USER'), ('error', 'SYS'), ('guest', 'SYS')]
    assert defs['error'].path == paths.error_log
    general = str(tmp_path / 'log' / 'general.log')
    defs['general'].set_enabled(True)
    assert admin.sql == [('SET GLOBAL general_log_file = %s', (general,)),
                         ('SET GLOBAL general_log = 1', None)]
    defs['slow_query'].set_enabled(False)
    assert logs.read_settings(paths) == {
        'general_log': '1', 'general_log_file': general, 'slow_query_log': '0',
        'slow_query_log_file': str(tmp_path / 'log' / 'slow_query.log')}
    assert defs['general'].enabled() is True
    assert admin.sql[-1] == ('SELECT @@GLOBAL.general_log', None)


def test_postgresql_general_log(tmp_path):
    from trove.guestagent.engines.postgresql import config, logs
    paths = config.Paths(datadir=str(tmp_path / 'data'), run_dir=str(tmp_path / 'run'),
                         log_dir=str(tmp_path / 'log'), state_dir=str(tmp_path))
    admin = FakeAdmin(rows=[('all',)])
    general, agent = logs.definitions(paths, admin)
    assert (general.name, general.type, general.path) == ('general', 'USER',
                                                          paths.console_log)
    assert agent.name == 'guest' and general.enabled() is True
    general.set_enabled(True)
    general.set_enabled(False)
    assert [s for s, _a in admin.sql[1:]] == [
        "ALTER SYSTEM SET log_statement = 'all'", 'SELECT pg_reload_conf()',
        'ALTER SYSTEM RESET log_statement', 'SELECT pg_reload_conf()']


def test_rpc_versions_match():
    from trove.guestagent import manager, rpcapi
    assert manager.Manager.target.version == rpcapi.GuestAPI.VERSION == '1.10'


def test_derived_guest_config_carries_the_log_options():
    from trove.taskmanager import guest_files
    CONF.set_override('guest_config', '')
    CONF.set_override('guest_log_container_name', 'logs_here')
    try:
        text = guest_files.guest_config()
    finally:
        CONF.clear_override('guest_config')
        CONF.clear_override('guest_log_container_name')
    default = text.split('[backup]')[0]
    assert 'guest_log_container_name = logs_here\n' in default
    assert 'guest_log_limit = 1000000\n' in default
