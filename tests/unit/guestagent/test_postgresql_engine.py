"""PostgreSQL engine parts that need no server: configs, names, commands, SCRAM."""
import base64
import hashlib
import hmac
import os

import pytest

from trove.common import exception, template
from trove.conf import CONF
from trove.guestagent.engines.postgresql import app, config, names, scram


@pytest.fixture
def paths(tmp_path):
    overrides = {'mount_point': str(tmp_path / 'vol'),
                 'guest_state_dir': str(tmp_path / 'state'), 'host_address': '127.77.1.3'}
    for key, value in overrides.items():
        CONF.set_override(key, value)
    CONF.set_override('port', 5499, group='postgresql')
    yield config.Paths.from_conf()
    for key in overrides:
        CONF.clear_override(key)
    CONF.clear_override('port', group='postgresql')


def test_main_conf_pins_paths_after_the_includes(paths):
    text = config.render_main(paths, 5499, '127.77.1.3')
    lines = text.splitlines()
    assert lines[1].startswith("include_if_exists '") and lines[1].endswith("10-trove.conf'")
    assert lines[2].endswith("20-overrides.conf'")
    assert "listen_addresses = '127.77.1.3'" in lines[4:]
    assert 'port = 5499' in lines and "unix_socket_permissions = '0700'" in lines
    assert "data_directory = '%s'" % paths.datadir in lines
    assert paths.socket == os.path.join(paths.run_dir, '.s.PGSQL.5499')


def test_hba_admin_only_by_peer_on_the_socket():
    rules = [line.split() for line in config.render_hba('os_admin').splitlines()
             if line and not line.startswith('#')]
    assert rules == [['local', 'all', 'os_admin', 'peer', 'map=trove'],
                     ['local', 'replication', 'os_admin', 'peer', 'map=trove'],
                     ['local', 'all', 'all', 'reject'],
                     ['host', 'all', 'os_admin', 'all', 'reject'],
                     ['host', 'all', 'all', 'all', 'scram-sha-256']]
    assert config.render_ident('root', 'os_admin').split() == ['trove', 'root', 'os_admin']


def test_overrides_are_quoted_and_validated():
    text = config.render_overrides({'work_mem': '8MB', 'fsync': True, 'max_connections': 50,
                                    'search_path': "it's", 'gone': None})
    assert text.splitlines()[1:] == ['fsync = on', 'max_connections = 50',
                                     "search_path = 'it''s'", "work_mem = '8MB'"]
    for bad in ({'a b': 1}, {'x\nport': 1}, {'work_mem': '1\nport = 1'}):
        with pytest.raises(exception.BadRequest):
            config.render_overrides(bad)


def test_write_config_writes_every_file(paths):
    config.write_config(paths, template.render_config('postgresql', 1024), {'work_mem': '4MB'})
    for path in (paths.main_conf, paths.hba_file, paths.ident_file,
                 os.path.join(paths.conf_d, config.TEMPLATE_FILE),
                 os.path.join(paths.conf_d, config.OVERRIDES_FILE)):
        assert os.path.isfile(path)
    with open(os.path.join(paths.conf_d, config.TEMPLATE_FILE)) as f:
        assert 'shared_buffers = 256MB' in f.read()
    config.write_config(paths, None, {})  # an empty template keeps the old one
    with open(os.path.join(paths.conf_d, config.TEMPLATE_FILE)) as f:
        assert 'shared_buffers = 256MB' in f.read()


def test_template_scales_with_ram():
    small = template.config_values('postgresql', 512)
    big = template.config_values('postgresql', 16384)
    assert small['shared_buffers'] == '128MB' and big['shared_buffers'] == '4096MB'
    assert small['max_connections'] == 64 and big['max_connections'] == 1000


def test_names():
    assert names.database_name('shop_1') == 'shop_1'
    assert names.host(None) == '%' and names.host('%') == '%'
    for call, bad in ((names.database_name, 'a' * 64), (names.user_name, 'pg_x'),
                      (names.user_name, 'x"y'), (names.host, '10.0.0.1'),
                      (names.locale, "en_US'; --")):
        with pytest.raises(exception.BadRequest):
            call(bad) if call is not names.locale else call('Collation', bad)


def test_bin_dirs_prefer_the_requested_version(monkeypatch):
    dirs = ['/usr/lib/postgresql/%s/bin' % v for v in ('9.6', '15', '13')]
    monkeypatch.setattr(app.glob, 'glob', lambda pattern: list(dirs))
    assert app.bin_dirs() == ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/13/bin',
                              '/usr/lib/postgresql/9.6/bin']
    assert app.bin_dirs('13')[0] == '/usr/lib/postgresql/13/bin'
    assert app.bin_dirs('13.4')[0] == '/usr/lib/postgresql/13/bin'


def test_commands(paths, monkeypatch):
    runs, spawns = [], []
    monkeypatch.setattr(app, 'find', lambda name, version=None: '/pg/bin/' + name)
    monkeypatch.setattr(app.process, 'run', lambda cmd, **kw: runs.append((cmd, kw)))
    pg = app.PostgresApp(paths)
    monkeypatch.setattr(pg.child, 'spawn', lambda cmd, **kw: spawns.append((cmd, kw)))
    os.makedirs(paths.datadir)
    pg.initialize()
    cmd, kw = runs[0]
    assert cmd[0] == '/pg/bin/initdb' and '--pgdata=%s' % paths.datadir in cmd
    assert '--username=os_admin' in cmd and '--auth-local=peer' in cmd
    assert kw['cwd'] == paths.datadir
    pg.spawn()
    assert spawns == [(['/pg/bin/postgres', '-c', 'config_file=%s' % paths.main_conf],
                       {'user': 'postgres', 'cwd': paths.datadir})]


def test_scram_verifier_format_and_keys():
    salt = b'0123456789abcdef'
    v = scram.verifier('pencil', salt=salt)
    head, keys = v.split('$', 1)[1].split('$')
    assert v.startswith('SCRAM-SHA-256$4096:') and head == '4096:' + base64.b64encode(
        salt).decode()
    salted = hashlib.pbkdf2_hmac('sha256', b'pencil', salt, 4096)
    server_key = hmac.new(salted, b'Server Key', hashlib.sha256).digest()
    assert keys.split(':')[1] == base64.b64encode(server_key).decode()
    assert scram.verifier('pencil') != scram.verifier('pencil')  # random salt
    # SASLprep maps a non-breaking space to a space.
    assert scram.verifier('a\u00a0b', salt=salt) == scram.verifier('a b', salt=salt)
