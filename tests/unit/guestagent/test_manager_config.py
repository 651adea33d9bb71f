"""Guest manager endpoints of RPC 1.2: restart and configuration overrides."""
import oslo_messaging as messaging
import pytest

from trove.common import exception
from trove.conf import CONF
from trove.guestagent import manager
from tests.unit.guestagent.test_manager import Engine, Reporter


@pytest.fixture
def state_dir(tmp_path):
    CONF.set_override('guest_state_dir', str(tmp_path))
    yield tmp_path
    CONF.clear_override('guest_state_dir')


class ConfigEngine(Engine):
    def __init__(self):
        super().__init__()
        self.calls = []

    def restart(self):
        self.calls.append('restart')
        self.state = 'healthy'

    def update_overrides(self, overrides, remove=False):
        self.calls.append(('update', overrides, remove))

    def apply_overrides(self, overrides):
        if 'bad' in overrides:
            raise RuntimeError('Unknown system variable bad')
        self.calls.append(('apply', overrides))

    def start_db_with_conf_changes(self, config_contents):
        self.calls.append(('start', config_contents))


def test_restart_reports_status_at_once(state_dir):
    (state_dir / 'prepare.done').write_text('done\n')
    eng, rep = ConfigEngine(), Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.restart(None)
    mgr.start_db_with_conf_changes(None, config_contents='[mysqld]\n')
    assert eng.calls == ['restart', ('start', '[mysqld]\n')]
    assert rep.sent == ['healthy', 'healthy']


def test_overrides_are_delegated_and_errors_mapped(state_dir):
    eng = ConfigEngine()
    mgr = manager.Manager(engine=eng, reporter=Reporter())
    mgr.update_overrides(None, overrides={'max_connections': 77})
    mgr.apply_overrides(None, overrides={'max_connections': 77})
    assert eng.calls == [('update', {'max_connections': 77}, False),
                         ('apply', {'max_connections': 77})]
    # The RPC layer unwraps ExpectedException and sends the EngineError back.
    with pytest.raises(messaging.ExpectedException) as err:
        mgr.apply_overrides(None, overrides={'bad': 1})
    error = err.value.exc_info[1]
    assert isinstance(error, exception.EngineError)
    assert 'Unknown system variable bad' in error.msg
