"""A replica's heartbeat: its stream, a blip tolerated, a broken one reported."""
import pytest

from trove.conf import CONF
from trove.guestagent import manager, replication_report
from trove.guestagent.engines import replication as base

from tests.unit.guestagent.test_manager import Reporter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Replication:
    def __init__(self):
        self.st = base.status_dict(base.REPLICA, following='10.0.0.1:3306', lag=2)

    def status(self):
        return self.st


class Engine:
    def __init__(self):
        self.replication = Replication()

    def status(self):
        return 'healthy'


@pytest.fixture
def grace():
    CONF.set_override('replication_broken_after', 30)
    yield 30
    CONF.clear_override('replication_broken_after')


def test_blip_is_tolerated_then_broken_is_reported_once(grace):
    clock, eng = Clock(), Engine()
    report = replication_report.StreamReport(clock=clock)
    first = report.read(eng)
    assert first == {'following': '10.0.0.1:3306', 'lag': 2, 'healthy': True,
                     'broken': False, 'error': None}
    eng.replication.st = base.status_dict(base.REPLICA, following='10.0.0.1:3306',
                                          healthy=False, error='Connecting')
    clock.now += 10
    assert report.read(eng)['broken'] is False
    clock.now += grace
    down = report.read(eng)
    assert down['broken'] is True and down['error'] == 'Connecting'
    assert report.newly_broken(down) is True
    assert report.newly_broken(report.read(eng)) is False
    eng.replication.st = base.status_dict(base.REPLICA, following='10.0.0.1:3306', lag=0)
    healed = report.read(eng)
    assert healed['broken'] is False and report.newly_broken(healed) is False


def test_primary_or_unsupported_engine_reports_nothing():
    eng = Engine()
    eng.replication.st = base.status_dict(base.PRIMARY)
    assert replication_report.StreamReport().read(eng) is None

    class NoReplication:
        @property
        def replication(self):
            raise NotImplementedError('replication')
    assert replication_report.StreamReport().read(NoReplication()) is None


def test_manager_heartbeat_says_broken_with_a_fault(grace, tmp_path):
    CONF.set_override('guest_state_dir', str(tmp_path))
    try:
        (tmp_path / 'prepare.done').write_text('done\n')
        eng, rep = Engine(), Reporter()
        mgr = manager.Manager(engine=eng, reporter=rep)
        clock = Clock()
        mgr.stream = replication_report.StreamReport(clock=clock)
        mgr.report()
        assert rep.sent[-1] == 'healthy' and rep.streams[-1]['lag'] == 2
        eng.replication.st = base.status_dict(base.REPLICA, following='10.0.0.1:3306',
                                              healthy=False, error='Access denied')
        mgr.report()
        clock.now += grace + 1
        mgr.report()
        mgr.report()
        assert rep.sent[-3:] == ['healthy', 'replication broken', 'replication broken']
        assert rep.errors == ['Replication from 10.0.0.1:3306 is broken: Access denied']
    finally:
        CONF.clear_override('guest_state_dir')
