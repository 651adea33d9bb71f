"""Guest manager: prepare once, report status, recover after an agent restart."""
import time

import pytest

from trove.conf import CONF
from trove.guestagent import manager


class Engine:
    def __init__(self, fail=None):
        self.fail = fail
        self.state = 'shutdown'
        self.prepared = []
        self.started = 0

    def prepare(self, req):
        if self.fail:
            raise self.fail
        self.prepared.append(req)
        self.state = 'healthy'

    def status(self):
        return self.state

    def start(self):
        self.started += 1
        self.state = 'healthy'

    def stop(self):
        self.state = 'shutdown'


class Reporter:
    def __init__(self):
        self.sent = []
        self.streams = []
        self.errors = []
        self.stamps = []

    def send(self, status, replication=None, sent=None, archive_latest=None):
        self.sent.append(status)
        self.streams.append(replication)
        # As the real one: stamped now unless told when the status was read.
        self.stamps.append((time.time() if sent is None else sent, status))

    def error(self, message, details=None):
        self.errors.append(message)


@pytest.fixture
def state_dir(tmp_path):
    CONF.set_override('guest_state_dir', str(tmp_path))
    yield tmp_path
    CONF.clear_override('guest_state_dir')


REQ = {'memory_mb': 1024, 'databases': [{'name': 'shop'}],
       'users': [{'name': 'alice', 'password': 'pw', 'databases': [{'name': 'shop'}]}],
       'config_contents': '[mysqld]\n', 'root_password': None, 'overrides': {},
       'ds_version': '10.11'}


def test_prepare_reports_building_then_healthy(state_dir):
    eng, rep = Engine(), Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.prepare(None, REQ)
    assert rep.sent == ['building', 'healthy']
    assert eng.prepared[0].databases == [{'name': 'shop'}]
    assert mgr.prepared


class Stream:
    """Counts stream reads; reports nothing (not a replica)."""

    def __init__(self):
        self.reads = 0

    def read(self, engine):
        self.reads += 1
        return None

    def newly_broken(self, stream):
        return False


def test_first_report_of_a_new_primary_skips_the_stream(state_dir):
    eng, rep = Engine(), Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.stream = Stream()
    mgr.prepare(None, REQ)
    assert rep.sent == ['building', 'healthy'] and mgr.stream.reads == 0
    mgr.report()  # the periodic heartbeats read it
    assert mgr.stream.reads == 1


def test_first_report_of_a_replica_reads_the_stream(state_dir):
    eng, rep = Engine(), Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.stream = Stream()
    mgr.prepare(None, dict(REQ, replica=True))
    assert rep.sent[-1] == 'healthy' and mgr.stream.reads == 1


def test_second_prepare_is_ignored(state_dir):
    eng, rep = Engine(), Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.prepare(None, REQ)
    mgr.prepare(None, REQ)
    assert len(eng.prepared) == 1


def test_failed_prepare_reports_error_and_failed(state_dir):
    from trove.common import exception
    eng = Engine(fail=exception.EngineError(detail='mariadbd did not start'))
    rep = Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.prepare(None, REQ)
    assert rep.sent == ['building', 'failed to spawn']
    assert 'mariadbd did not start' in rep.errors[0]
    assert not mgr.prepared


def test_no_heartbeat_before_prepare(state_dir):
    rep = Reporter()
    manager.Manager(engine=Engine(), reporter=rep).report()
    assert rep.sent == []


def test_recover_starts_a_stopped_engine(state_dir):
    eng, rep = Engine(), Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.prepare(None, REQ)
    eng.stop()
    manager.Manager(engine=eng, reporter=rep).recover()
    assert eng.started == 1
    assert rep.sent[-1] == 'healthy'


class Replication:
    def __init__(self, guard, replica_on_disk):
        self.guard, self.on_disk = guard, replica_on_disk

    def held(self):
        return self.guard and not self.on_disk


@pytest.mark.parametrize('guard,on_disk,state,started,reported', [
    (True, False, 'shutdown', 0, 'shutdown'),    # a fenced old primary: held
    (True, False, 'crashed', 0, 'crashed'),
    (True, True, 'shutdown', 1, 'healthy'),      # a replica starts read-only
    (False, False, 'shutdown', 1, 'healthy'),    # not highly available
    (True, False, 'healthy', 0, 'healthy'),      # up already: nothing to hold
])
def test_recover_holds_a_guarded_primary_found_down(state_dir, guard, on_disk, state,
                                                    started, reported):
    eng, rep = Engine(), Reporter()
    manager.Manager(engine=eng, reporter=rep).prepare(None, REQ)
    eng.state, eng.started = state, 0
    eng.replication = Replication(guard, on_disk)
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.recover()
    assert eng.started == started
    assert rep.sent[-1] == reported
    # The engine watch leaves a held engine down.
    assert mgr.watch.wanted_up is (started == 1 or state == 'healthy')


def test_guard_is_kept_in_the_state_file_and_a_replica_on_disk_lifts_it(tmp_path):
    from trove.guestagent.engines.mysql import replication as repl

    class Engine:
        class paths:
            conf_d = str(tmp_path / 'conf.d')
            state_dir = str(tmp_path)
            datadir = str(tmp_path)
    replication = repl.MariaDBReplication(Engine())
    assert not replication.held()
    replication.set_guard(True)
    assert repl.MariaDBReplication(Engine()).held()
    replication._persist(True)   # conf.d starts it read-only
    assert not replication.held()
    replication._persist(False)
    assert replication.held()
    replication.set_guard(False)
    assert not replication.held()


class WarmEngine(Engine):
    def __init__(self, gate):
        super().__init__()
        self.gate = gate
        self.order = []

    def warm_up(self):
        self.gate.wait(5)
        self.order.append('warm')

    def prepare(self, req):
        self.order.append('prepare')
        super().prepare(req)


def test_prepare_waits_for_warm_up(state_dir):
    import threading
    gate = threading.Event()
    eng, rep = WarmEngine(gate), Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.start_warm_up()
    worker = threading.Thread(target=mgr.prepare, args=(None, REQ))
    worker.start()
    worker.join(0.3)
    assert worker.is_alive() and eng.order == []
    gate.set()
    worker.join(5)
    assert eng.order == ['warm', 'prepare']


def test_failed_warm_up_does_not_block_prepare(state_dir):
    class Broken(Engine):
        def warm_up(self):
            raise RuntimeError('no disk')
    eng, rep = Broken(), Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.start_warm_up()
    mgr.prepare(None, REQ)
    assert rep.sent[-1] == 'healthy'


def test_repeated_cast_of_the_running_backup_is_ignored(state_dir, monkeypatch):
    """A restarted taskmanager re-sends backups in NEW; the running one goes on."""
    import threading
    updates, gate = [], threading.Event()

    class Conductor:
        def update_backup(self, **kw):
            updates.append(kw)

    rep = Reporter()
    rep.conductor = Conductor()
    mgr = manager.Manager(engine=Engine(), reporter=rep)
    monkeypatch.setattr(manager.guest_backup, 'get_strategy', lambda *a: object())
    monkeypatch.setattr(manager.backup_runner, 'run_backup',
                        lambda strategy, info, conductor: gate.wait(10))
    first = threading.Thread(target=mgr.create_backup, args=(None, {'id': 'b1'}))
    first.start()
    while mgr.running_backup != 'b1':
        pass
    mgr.create_backup(None, {'id': 'b1'})
    assert updates == []                       # not reported FAILED
    mgr.create_backup(None, {'id': 'b2'})      # another backup is refused
    assert updates == [{'instance_id': CONF.guest_id, 'backup_id': 'b2', 'state': 'FAILED'}]
    gate.set()
    first.join()
    assert mgr.running_backup is None




class SlowStream:
    """A replication status read that waits for ``gate`` (the engine is
    killed meanwhile); ``entered`` tells that a report is inside it."""

    def __init__(self):
        import threading
        self.entered, self.gate = threading.Event(), threading.Event()

    def status(self):
        self.entered.set()
        self.gate.wait(5)
        return {'role': None}


def test_a_report_read_before_a_crash_is_older_than_the_crash_report(state_dir):
    """The heartbeat thread reads 'healthy', the engine crashes while it reads
    the stream, the watch reports 'crashed' first: the conductor keeps the
    report with the newest ``sent``, which must be the watch's 'crashed'."""
    import threading
    eng, rep = Engine(), Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep)
    mgr.prepare(None, REQ)
    rep.sent.clear()
    rep.stamps.clear()
    eng.replication = SlowStream()
    beat = threading.Thread(target=mgr.report)
    beat.start()
    assert eng.replication.entered.wait(5)
    eng.state = 'crashed'
    time.sleep(0.01)
    mgr.report()                         # the watch's report of the crash
    eng.replication.gate.set()
    beat.join(5)
    assert rep.sent == ['crashed', 'healthy']     # the order they were cast
    assert max(rep.stamps)[1] == 'crashed'
