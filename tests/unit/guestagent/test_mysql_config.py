"""my.cnf and conf.d rendering of the mysql-family engine."""
import os

import pytest

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines.mysql import config


@pytest.fixture
def conf_dirs(tmp_path):
    overrides = {'mount_point': str(tmp_path / 'vol'),
                 'guest_state_dir': str(tmp_path / 'state'),
                 'host_address': '127.77.1.2'}
    for key, value in overrides.items():
        CONF.set_override(key, value)
    CONF.set_override('port', 3407, group='mariadb')
    yield tmp_path
    for key in overrides:
        CONF.clear_override(key)
    CONF.clear_override('port', group='mariadb')


def test_paths_follow_conf(conf_dirs):
    p = config.Paths.from_conf()
    assert p.datadir == str(conf_dirs / 'vol' / 'data')
    assert p.socket.startswith(str(conf_dirs / 'state' / 'run'))
    assert p.pid_file.startswith(str(conf_dirs / 'state' / 'run'))
    assert p.error_log.startswith(str(conf_dirs / 'state' / 'log'))
    assert os.path.dirname(p.admin_secret) == str(conf_dirs / 'state')


def test_my_cnf_pins_private_paths_port_and_address(conf_dirs):
    p = config.Paths.from_conf()
    text = config.render_my_cnf(p, 3407, '127.77.1.2')
    lines = text.splitlines()
    assert lines.index('[mysqld]') < lines.index('datadir = %s' % p.datadir)
    for line in ('socket = %s' % p.socket, 'pid-file = %s' % p.pid_file, 'port = 3407',
                 'bind-address = 127.77.1.2', 'log-error = %s' % p.error_log,
                 'skip-name-resolve'):
        assert line in lines
    assert lines[-1] == '!includedir %s' % p.conf_d


def test_write_config_writes_template_and_overrides(conf_dirs):
    p = config.Paths.from_conf()
    config.write_config(p, '[mysqld]\nmax_connections = 7', {'max_connections': 9,
                                                             'skip-log-bin': True})
    assert 'port = 3407' in open(p.my_cnf).read()
    trove_cnf = open(os.path.join(p.conf_d, '10-trove.cnf')).read()
    assert trove_cnf == '[mysqld]\nmax_connections = 7\n'
    over = open(os.path.join(p.conf_d, '20-overrides.cnf')).read().splitlines()
    assert over == ['[mysqld]', 'max_connections = 9', 'skip-log-bin']


def test_rewrite_without_template_keeps_previous_part(conf_dirs):
    p = config.Paths.from_conf()
    config.write_config(p, '[mysqld]\nmax_connections = 7\n', {})
    config.write_config(p, None, {})
    assert 'max_connections = 7' in open(os.path.join(p.conf_d, '10-trove.cnf')).read()


@pytest.mark.parametrize('overrides', [{'a': '1\n[client]'}, {'a\nb': 1}, {'': 1}])
def test_overrides_cannot_inject_lines(overrides):
    with pytest.raises(exception.BadRequest):
        config.render_overrides(overrides)


def test_too_long_socket_path_is_refused(tmp_path):
    deep = str(tmp_path / ('x' * 120))
    p = config.Paths(datadir=deep, run_dir=deep, log_dir=deep, state_dir=deep)
    with pytest.raises(exception.EngineError):
        config.write_config(p, None, {})


def test_engine_has_a_private_tmpdir(conf_dirs):
    # mariadbd empties its tmpdir of '#sql*' files when it starts; a shared
    # /tmp lets one engine delete another's install-db bootstrap tables.
    p = config.Paths.from_conf()
    lines = config.render_my_cnf(p, 3407, '127.77.1.2').splitlines()
    assert 'tmpdir = %s' % p.tmp_dir in lines
    assert p.tmp_dir.startswith(str(conf_dirs / 'state') + os.sep)


def test_prewarm_install_db_uses_the_private_tmpdir(conf_dirs, monkeypatch):
    from trove.guestagent.engines import process
    from trove.guestagent.engines.mysql import app
    runs = []
    monkeypatch.setattr(process, 'find_binary', lambda name: '/usr/bin/' + name)
    monkeypatch.setattr(process, 'run', lambda cmd, **kw: runs.append(cmd))
    p = config.Paths.from_conf()
    app.MariaDBApp(p).prewarm()
    [cmd] = runs
    assert cmd[:2] == ['/usr/bin/mariadb-install-db', '--no-defaults']
    assert '--tmpdir=%s' % p.tmp_dir in cmd
    assert os.path.isdir(p.tmp_dir)
