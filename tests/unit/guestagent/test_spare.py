"""Spare mode of the guest agent: bring-up, readiness, claim decisions."""
import os

import pytest

from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.guestagent import manager
from trove.guestagent import spare as spare_mod
from tests.unit.guestagent.test_manager import REQ, Engine, Reporter


class CountingEngine(Engine):
    def __init__(self):
        super().__init__()
        self.stops = 0
        self.warmed = 0

    def warm_up(self):
        self.warmed += 1

    def stop(self):
        self.stops += 1
        super().stop()


@pytest.fixture
def spare_conf(tmp_path):
    CONF.set_override('guest_state_dir', str(tmp_path))
    CONF.set_override('datastore_manager', 'mariadb')
    CONF.set_override('spare_flavor_ram', 1024)
    yield tmp_path
    for name in ('guest_state_dir', 'datastore_manager', 'spare_flavor_ram'):
        CONF.clear_override(name)


def _spare():
    return spare_mod.Spare(engine=CountingEngine())


def test_bring_up_prepares_without_databases_and_marks_ready(spare_conf):
    spare = _spare()
    assert not os.path.exists(spare_mod.ready_marker())
    spare.bring_up()
    eng = spare.engine
    assert eng.warmed == 1 and len(eng.prepared) == 1
    req = eng.prepared[0]
    assert req.databases == [] and req.users == [] and req.root_password is None
    assert 'innodb_buffer_pool_size = 512M' in req.config_contents
    with open(spare_mod.ready_marker()) as f:
        assert int(f.read()) == os.getpid()
    # Not a prepared instance: the agent has not served a prepare yet.
    assert not os.path.exists(os.path.join(str(spare_conf), 'prepare.done'))


def test_needs_restart_only_for_other_config_or_overrides(spare_conf):
    spare = _spare()
    same = PrepareRequest(config_contents=spare.config_contents)
    other = PrepareRequest(config_contents=spare.config_contents + 'x = 1\n')
    with_overrides = PrepareRequest(config_contents=spare.config_contents,
                                            overrides={'max_connections': 50})
    assert not spare.needs_restart(same)
    assert spare.needs_restart(other)
    assert spare.needs_restart(with_overrides)


def _claimed_manager(spare):
    spare.bring_up()
    return manager.Manager(engine=spare.engine, reporter=Reporter(), spare=spare)


def test_claimed_spare_with_the_same_config_is_not_restarted(spare_conf):
    spare = _spare()
    mgr = _claimed_manager(spare)
    mgr.start_warm_up()  # nothing to warm: the engine runs
    mgr.prepare(None, dict(REQ, config_contents=spare.config_contents))
    assert spare.engine.stops == 0 and spare.engine.warmed == 1
    assert spare.engine.prepared[-1].users[0]['name'] == 'alice'
    assert mgr.reporter.sent == ['building', 'healthy'] and mgr.prepared


def test_claimed_spare_for_another_flavor_is_restarted(spare_conf):
    spare = _spare()
    mgr = _claimed_manager(spare)
    mgr.prepare(None, dict(REQ, config_contents='[mysqld]\nmax_connections = 512\n'))
    assert spare.engine.stops == 1
    assert spare.engine.prepared[-1].config_contents.endswith('512\n')
    assert mgr.reporter.sent == ['building', 'healthy']
