"""Redis configuration-group values: CONFIG SET live, refused ones kept out
of the overrides file (redis-server would not start with them)."""
import os

import pytest
import redis

from trove.common import exception
from trove.guestagent.engines.redis import config, manager

from tests.unit.guestagent.test_redis_engine import paths  # noqa: F401 (fixture)


class Client:
    """CONFIG SET recorder that refuses the values in ``bad``."""

    def __init__(self, bad=()):
        self.bad, self.set = set(bad), {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def config_set(self, name, value):
        if name in self.bad:
            raise redis.ResponseError('Invalid argument %r for CONFIG SET %r' % (value, name))
        self.set[name] = value


def _overrides_file(paths):  # noqa: F811
    with open(os.path.join(paths.conf_d, config.OVERRIDES_FILE)) as f:
        return f.read()


def test_values_are_set_live(paths):  # noqa: F811
    os.makedirs(paths.conf_d)
    eng = manager.RedisEngine()
    client = Client()
    eng.client = lambda *a, **k: client
    eng.update_overrides({'maxmemory-policy': 'allkeys-lru', 'hz': 20})
    eng.apply_overrides({'maxmemory-policy': 'allkeys-lru', 'hz': 20, 'timeout': None})
    assert client.set == {'maxmemory-policy': 'allkeys-lru', 'hz': 20}
    assert 'maxmemory-policy "allkeys-lru"' in _overrides_file(paths)


def test_refused_values_leave_the_file(paths):  # noqa: F811
    os.makedirs(paths.conf_d)
    eng = manager.RedisEngine()
    client = Client(bad={'maxmemory-policy'})
    eng.client = lambda *a, **k: client
    eng.update_overrides({'maxmemory-policy': 'most-lru', 'hz': 20})
    with pytest.raises(exception.EngineError) as err:
        eng.apply_overrides({'maxmemory-policy': 'most-lru', 'hz': 20})
    assert 'maxmemory-policy' in str(err.value.msg)
    text = _overrides_file(paths)
    assert 'most-lru' not in text and 'hz "20"' in text
    assert client.set == {'hz': 20}
