"""Redis engine parts that need no server: config files and option rules."""
import os
import stat

import pytest

from trove.common import exception, template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent.engines.redis import config, manager


@pytest.fixture
def paths(tmp_path):
    overrides = {'mount_point': str(tmp_path / 'vol'),
                 'guest_state_dir': str(tmp_path / 'state'), 'host_address': '127.77.1.4'}
    for key, value in overrides.items():
        CONF.set_override(key, value)
    CONF.set_override('port', 6399, group='redis')
    yield config.Paths.from_conf()
    for key in overrides:
        CONF.clear_override(key)
    CONF.clear_override('port', group='redis')


def test_main_conf(paths):
    lines = config.render_main(paths, 6399, '127.77.1.4', 'p"w\\x').splitlines()
    assert lines[1].startswith('include "') and lines[2].endswith('20-overrides.conf"')
    for expected in ('bind 127.77.1.4', 'port 6399', 'daemonize no', 'appendonly yes',
                     'unixsocketperm 700', 'requirepass "p\\"w\\\\x"',
                     'pidfile "%s"' % paths.pid_file, 'dir "%s"' % paths.datadir):
        assert expected in lines[3:]
    old = config.render_main(paths, 6399, '127.77.1.4', 'pw', protect=False)
    assert 'enable-protected-configs' not in old  # Redis < 7 would refuse to start


def test_main_conf_is_private(paths):
    os.makedirs(paths.state_dir)
    config.write_main(paths, 'pw', 'no-such-user')
    assert stat.S_IMODE(os.stat(paths.main_conf).st_mode) == 0o600


def test_overrides_cannot_touch_pinned_options():
    assert config.render_overrides({'timeout': 30, 'appendonly': False}).splitlines()[1:] == \
        ['appendonly no', 'timeout "30"']
    for bad in ('requirepass', 'dir', 'bind', 'port', 'include', 'x y', 'rename-command'):
        with pytest.raises(exception.BadRequest):
            config.option_name(bad)


def test_template_maxmemory_scales_with_ram():
    assert template.config_values('redis', 512)['maxmemory'] == '384mb'
    assert template.config_values('redis', 4096)['maxmemory'] == '3072mb'
    assert template.config_values('redis', 512)['maxmemory-policy'] == 'noeviction'


def test_prepare_writes_config_and_secret(paths, monkeypatch):
    eng = manager.RedisEngine()
    monkeypatch.setattr(eng.app, 'install', lambda: None)
    monkeypatch.setattr(eng, 'start', lambda: None)
    monkeypatch.setattr(eng.app, 'major_version', lambda: 7)
    eng.prepare(PrepareRequest(config_contents='maxmemory 64mb\n', root_password='R00t'))
    assert eng.secret.read() == 'R00t' and eng.is_root_enabled()
    with open(paths.main_conf) as f:
        text = f.read()
    assert 'requirepass "R00t"' in text and 'enable-protected-configs no' in text
    with open(os.path.join(paths.conf_d, config.TEMPLATE_FILE)) as f:
        assert f.read() == 'maxmemory 64mb\n'
