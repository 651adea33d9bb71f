"""The engine watch: a crashed engine is restarted, bounded, never a stopped one."""
import threading

import pytest

from tests.unit.guestagent import test_manager
from tests.unit.guestagent.test_manager import REQ, Reporter
from trove.conf import CONF
from trove.guestagent import engine_watch, manager


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Engine(test_manager.Engine):
    def restart(self):
        self.stop()
        self.start()


@pytest.fixture
def state_dir(tmp_path):
    CONF.set_override('guest_state_dir', str(tmp_path))
    yield tmp_path
    CONF.clear_override('guest_state_dir')


def _prepared(sleeps=None):
    eng, rep = Engine(), Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.watch.sleep = (sleeps.append if sleeps is not None else lambda s: None)
    mgr.watch.policy = engine_watch.CrashPolicy(limit=3, window=60, clock=Clock())
    mgr.prepare(None, REQ)
    rep.sent.clear()
    return mgr, eng, rep


def test_policy_first_restart_immediate_then_backoff_then_give_up():
    clock = Clock()
    policy = engine_watch.CrashPolicy(limit=4, window=60, backoff=1, backoff_max=3,
                                      clock=clock)
    assert [policy.record_crash() for _ in range(4)] == [0.0, 1, 2, 3]
    assert policy.record_crash() is None
    clock.now = 200.0  # the old crashes left the window
    assert policy.record_crash() == 0.0


def test_crashed_engine_is_restarted_and_reported(state_dir):
    mgr, eng, rep = _prepared()
    mgr.watch.check()
    assert eng.started == 0  # healthy: nothing to do
    eng.state = 'crashed'
    mgr.watch.check()
    assert eng.started == 1 and eng.state == 'healthy'
    # The crash was reported before the restart, HEALTHY after it.
    assert rep.sent == ['crashed', 'healthy']
    assert mgr.watch.restarts == 1


def test_engine_exited_on_its_own_is_restarted_with_backoff(state_dir):
    sleeps = []
    mgr, eng, _rep = _prepared(sleeps)
    for _ in range(3):
        eng.state = 'shutdown'
        mgr.watch.check()
    assert eng.started == 3 and sleeps == [1.0, 2.0]


def test_gives_up_after_the_limit_with_a_fault_until_a_restart(state_dir):
    mgr, eng, rep = _prepared()
    for _ in range(3):
        eng.state = 'crashed'
        mgr.watch.check()
    eng.state = 'crashed'
    mgr.watch.check()
    assert eng.started == 3 and mgr.watch.gave_up
    assert rep.errors and 'went down 4 times' in rep.errors[0]
    assert rep.sent[-1] == 'crashed'
    mgr.watch.check()
    assert eng.started == 3  # stays down, visibly
    mgr.restart(None)  # the user's restart is the repair and re-arms the watch
    assert not mgr.watch.gave_up and eng.state == 'healthy'
    eng.state = 'crashed'
    mgr.watch.check()
    assert eng.started == 5


def test_stop_db_is_not_healed_until_a_deliberate_start(state_dir):
    mgr, eng, _rep = _prepared()
    mgr.stop_db(None)
    mgr.watch.check()
    assert eng.state == 'shutdown' and eng.started == 0
    mgr.recover()  # an agent start brings a prepared engine up again
    assert eng.state == 'healthy'


def test_not_watched_before_prepare(state_dir):
    eng, rep = Engine(), Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.watch.check()
    assert eng.started == 0 and rep.sent == []


def test_deliberate_work_is_never_interrupted(state_dir):
    mgr, eng, _rep = _prepared()
    inside, release = threading.Event(), threading.Event()

    def slow_stop():
        eng.state = 'shutdown'  # down on purpose, mid-restart
        inside.set()
        release.wait(5)

    eng.stop = slow_stop
    worker = threading.Thread(target=mgr.restart, args=(None,))
    worker.start()
    assert inside.wait(5)
    mgr.watch.check()  # the restart holds the engine: the watch keeps off
    assert eng.started == 0
    release.set()
    worker.join(5)
    assert eng.started == 1 and mgr.watch.restarts == 0


def test_a_failed_start_is_retried_within_the_same_crash(state_dir):
    sleeps = []
    mgr, eng, rep = _prepared(sleeps)
    real_start, fails = eng.start, [RuntimeError('shared memory in use')] * 2

    def start():
        if fails:
            raise fails.pop()
        real_start()

    eng.start = start
    eng.state = 'crashed'
    mgr.watch.check()
    assert eng.state == 'healthy' and mgr.watch.restarts == 1
    assert sleeps == [engine_watch.START_PAUSE] * 2
    assert len(mgr.watch.policy.crashes) == 1 and rep.sent[-1] == 'healthy'


def test_an_engine_that_does_not_start_is_reported_down(state_dir):
    mgr, eng, rep = _prepared()

    def start():
        raise RuntimeError('broken datadir')

    eng.start = start
    eng.state = 'crashed'
    mgr.watch.check()
    assert mgr.watch.restarts == 0 and rep.sent == ['crashed', 'crashed']
