"""Process helpers: errors carry stderr but never passwords."""
import os

import pytest

from trove.common import exception
from trove.conf import CONF
from trove.guestagent.engines import process


def test_run_returns_output():
    assert process.run(['echo', 'hi']).stdout == 'hi\n'


def test_failure_has_stderr_and_masks_passwords():
    with pytest.raises(exception.ProcessExecutionError) as err:
        process.run(['sh', '-c', 'echo boom >&2; exit 3', '--password=hunter2'])
    assert 'boom' in err.value.msg and '3' in err.value.msg
    assert 'hunter2' not in err.value.msg


def test_failure_without_stderr_reports_stdout():
    with pytest.raises(exception.ProcessExecutionError) as err:
        process.run(['sh', '-c', 'echo "Neither host could be looked up"; exit 1'])
    assert 'Neither host could be looked up' in err.value.msg


def test_timeout_is_an_error():
    with pytest.raises(exception.ProcessExecutionError):
        process.run(['sleep', '5'], timeout=0.2)


def test_wait_for():
    assert process.wait_for(lambda: 5, 1) == 5
    assert process.wait_for(lambda: False, 0.3, interval=0.05) is None


def test_pid_alive():
    assert process.pid_alive(os.getpid())
    assert not process.pid_alive(0)


def test_missing_binary_without_install_is_an_error():
    CONF.set_override('install_packages', False)
    try:
        with pytest.raises(exception.EngineError):
            process.ensure_packages(['no-such-binary-xyz'], ['nothing'])
        process.ensure_packages(['sh'], ['nothing'])  # present: no install needed
    finally:
        CONF.clear_override('install_packages')
