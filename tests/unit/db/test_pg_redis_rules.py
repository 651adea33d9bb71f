"""The shipped PostgreSQL and Redis parameter catalogues and how their values
reach the engines' config files and live settings."""
import json

import pytest

from trove.common import exception
from trove.db import configurations as cfg_db
from trove.db import datastores
from trove.guestagent.engines.postgresql import config as pg_config
from trove.guestagent.engines.redis import config as redis_config
from trove.taskmanager.flows import configuration


def _rules(manager):
    with open(cfg_db.rules_path(manager)) as f:
        return {r['name']: r for r in json.load(f)['configuration-parameters']}


def test_postgresql_catalogue():
    rules = _rules('postgresql')
    for name in ('work_mem', 'maintenance_work_mem', 'effective_cache_size',
                 'statement_timeout', 'log_min_duration_statement', 'random_page_cost',
                 'default_statistics_target', 'checkpoint_completion_target'):
        assert rules[name]['restart_required'] is False, name
    for name in ('max_connections', 'shared_buffers', 'max_worker_processes'):
        assert rules[name]['restart_required'] is True, name
    assert rules['random_page_cost']['type'] == 'float'
    # Every name is one the engine's config writer accepts.
    for name in rules:
        assert pg_config.option_name(name) == name
    # The agent pins these after the includes; a group must not offer them.
    assert not {'port', 'listen_addresses', 'data_directory', 'hba_file'} & set(rules)


def test_redis_catalogue():
    rules = _rules('redis')
    for name in ('maxmemory-policy', 'timeout', 'maxclients', 'hz',
                 'slowlog-log-slower-than'):
        assert rules[name]['restart_required'] is False, name
    assert rules['databases']['restart_required'] is True
    for name in rules:
        assert redis_config.option_name(name) == name  # none is pinned by the agent
    # Booleans would be written as 0/1, which redis.conf refuses.
    assert all(r['type'] != 'boolean' for r in rules.values())


@pytest.mark.parametrize('manager, good, bad', [
    ('postgresql', {'work_mem': 8192, 'random_page_cost': 1.5, 'jit': False},
     {'work_mem': 10}),
    ('redis', {'maxmemory-policy': 'allkeys-lru', 'hz': 20}, {'hz': 0}),
])
def test_values_are_checked_against_the_loaded_catalogue(db, manager, good, bad):
    datastores.datastore_update(manager)
    datastores.version_update(manager, '1', manager)
    version = datastores.get_version(datastores.get_datastore(manager).id, '1')
    assert cfg_db.load_parameters_file(version.id, cfg_db.rules_path(manager)) > 10
    cfg_db.validate_values(version.id, good)
    with pytest.raises(exception.BadRequest):
        cfg_db.validate_values(version.id, bad)


def test_redis_detach_restores_the_template_value():
    defaults = configuration.template_defaults('redis', 1024)
    change = configuration.ConfigurationChange(
        instance_id='i', old_values={'maxmemory-policy': 'allkeys-lru', 'timeout': 300})
    assert configuration.live_values(change, set(), defaults) == {
        'maxmemory-policy': 'noeviction', 'timeout': None}
