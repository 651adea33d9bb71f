"""Engine warm-up at agent boot: started before the manager, waited for by prepare."""
import os
import subprocess
import sys
import threading

import pytest

from trove.guestagent import manager, warm_up
from tests.unit.guestagent.test_manager import REQ, Engine, Reporter
from tests.unit.guestagent.test_manager import state_dir  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures('state_dir')


class GatedEngine(Engine):
    def __init__(self):
        super().__init__()
        self.gate = threading.Event()
        self.warmed = 0

    def warm_up(self):
        self.warmed += 1
        self.gate.wait(5)


def test_early_warm_up_runs_and_prepare_waits_for_it():
    eng = GatedEngine()
    warm = warm_up.start_early(eng)
    mgr = manager.Manager(engine=eng, reporter=Reporter(), warm=warm)
    mgr.start_warm_up()  # already running: not started twice
    worker = threading.Thread(target=mgr.prepare, args=(None, REQ))
    worker.start()
    worker.join(0.3)
    assert worker.is_alive() and eng.prepared == []
    eng.gate.set()
    worker.join(5)
    assert len(eng.prepared) == 1 and eng.warmed == 1


def test_prepared_guest_is_not_warmed_again():
    with open(warm_up.prepared_marker(), 'w') as f:
        f.write('done\n')
    eng = GatedEngine()
    eng.gate.set()
    warm = warm_up.start_early(eng)
    warm.wait(1)
    assert eng.warmed == 0


def test_failed_early_warm_up_leaves_prepare_to_do_the_work():
    class Broken(Engine):
        def warm_up(self):
            raise RuntimeError('no disk')
    eng, rep = Broken(), Reporter()
    mgr = manager.Manager(engine=eng, reporter=rep, warm=warm_up.start_early(eng))
    mgr.prepare(None, REQ)
    assert rep.sent[-1] == 'healthy'


def test_agent_modules_leave_certificates_and_archiving_unloaded():
    # What every build's agent imports: the x509 machinery and the archive
    # shipper load only when a certificate or an archive is handled.
    code = ('import sys; import trove.cmd.guest, trove.guestagent.manager, '
            'trove.guestagent.engines.mysql.manager, trove.common.rpc_crypto; '
            'print(sorted(m for m in ("cryptography.x509", "trove.guestagent.archive.shipper")'
            ' if m in sys.modules))')
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         env=env, check=True).stdout.strip()
    assert out == '[]'
