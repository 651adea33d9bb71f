"""The MariaDB overrides handler: files written and SET GLOBAL statements."""
import os

import pytest

from trove.common import exception
from trove.guestagent.engines.mysql import config, overrides


@pytest.fixture
def paths(tmp_path):
    return config.Paths(datadir=str(tmp_path / 'data'), run_dir=str(tmp_path / 'run'),
                        log_dir=str(tmp_path / 'log'), state_dir=str(tmp_path))


class FakeAdmin:
    def __init__(self, fail=()):
        self.statements = []
        self.fail = fail

    def execute(self, sql, args=None):
        name = sql.split()[2]
        if name in self.fail:
            raise RuntimeError('Variable %s is a read only variable' % name)
        self.statements.append((sql, tuple(args)))


def _read(paths, name):
    with open(os.path.join(paths.conf_d, name)) as f:
        return f.read()


def test_write_and_remove(paths):
    overrides.write(paths, {'max_connections': 77, 'slow_query_log': True,
                            'sql_mode': 'ANSI'})
    text = _read(paths, '20-overrides.cnf')
    assert text == '[mysqld]\nmax_connections = 77\nslow_query_log\nsql_mode = ANSI\n'
    overrides.write(paths, {'max_connections': 77}, remove=True)
    assert _read(paths, '20-overrides.cnf') == '[mysqld]\n'


def test_write_refuses_injection(paths):
    with pytest.raises(exception.BadRequest):
        overrides.write(paths, {'sql_mode': 'x\n[client]'})


def test_write_template(paths):
    overrides.write_template(paths, '[mysqld]\nmax_connections = 512')
    assert _read(paths, '10-trove.cnf') == '[mysqld]\nmax_connections = 512\n'
    with pytest.raises(exception.BadRequest):
        overrides.write_template(paths, '')


@pytest.mark.parametrize('value, expected', [
    (77, ('%s', (77,))),
    (True, ('%s', (1,))),
    (False, ('%s', (0,))),
    (0.5, ('%s', (0.5,))),
    ('512M', ('%s', (512 * 1024 * 1024,))),
    ('16k', ('%s', (16384,))),
    ('1G', ('%s', (1024 ** 3,))),
    ('300', ('%s', (300,))),
    ('ANSI,STRICT', ('%s', ('ANSI,STRICT',))),
    (None, ('DEFAULT', ())),
])
def test_sql_value(value, expected):
    assert overrides.sql_value(value) == expected


def test_variable_names():
    assert overrides.variable_name('character-set-server') == 'character_set_server'
    for bad in ('a b', 'x;DROP', '1abc', '', 'max_connections=1'):
        with pytest.raises(exception.BadRequest):
            overrides.variable_name(bad)


def test_apply_sets_each_value():
    admin = FakeAdmin()
    assert overrides.apply(admin, {'max_connections': 77, 'wait_timeout': None}) == [
        'max_connections', 'wait_timeout']
    assert admin.statements == [('SET GLOBAL max_connections = %s', (77,)),
                                ('SET GLOBAL wait_timeout = DEFAULT', ())]


def test_apply_reports_every_failure_after_trying_all():
    admin = FakeAdmin(fail=('innodb_log_file_size',))
    with pytest.raises(exception.EngineError) as err:
        overrides.apply(admin, {'innodb_log_file_size': 1, 'max_connections': 5})
    assert 'innodb_log_file_size' in err.value.msg
    assert admin.statements == [('SET GLOBAL max_connections = %s', (5,))]
