"""The daemons run on threads: importing them must not load eventlet."""
import subprocess
import sys


def test_daemons_import_without_eventlet():
    code = ('import sys\n'
            'import trove.cmd.api, trove.cmd.conductor, trove.cmd.guest\n'
            'import trove.cmd.taskmanager, trove.guestagent.manager\n'
            'import trove.taskmanager.manager, oslo_messaging\n'
            'loaded = sorted(m for m in sys.modules if m.startswith("eventlet.")\n'
            '                or (m == "eventlet" and sys.modules[m] is not None))\n'
            'print(",".join(loaded))\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.strip()
    assert out == ''
