"""Daemons started as ``python -m trove.cmd.X`` log to ``trove-X.log`` (issue 8)."""
import os
import subprocess
import sys

import pytest

from trove.common import service
from trove.conf import CONF

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_manage_run_as_module_logs_to_its_own_file(tmp_path):
    conf = tmp_path / 'trove.conf'
    conf.write_text('[DEFAULT]\nlog_dir = %s\n[database]\nconnection = sqlite:///%s\n'
                    % (tmp_path / 'log', tmp_path / 'trove.sqlite'))
    (tmp_path / 'log').mkdir()
    subprocess.run([sys.executable, '-m', 'trove.cmd.manage', '--config-file', str(conf),
                    'db_sync'], check=True, cwd=REPO, capture_output=True, timeout=120)
    assert sorted(os.listdir(tmp_path / 'log')) == ['trove-manage.log']


@pytest.fixture
def log_dir(tmp_path):
    CONF.set_override('log_dir', str(tmp_path))
    yield tmp_path
    CONF.clear_override('log_dir')
    CONF.set_default('log_file', None)


def test_binary_names_the_log_file(log_dir, monkeypatch):
    monkeypatch.setattr(service.logging, 'setup', lambda conf, project: None)
    service.setup_logging('trove', 'trove-conductor')
    assert CONF.log_file == 'trove-conductor.log'


def test_configured_log_file_wins(log_dir, monkeypatch):
    monkeypatch.setattr(service.logging, 'setup', lambda conf, project: None)
    CONF.set_override('log_file', 'mine.log')
    try:
        service.setup_logging('trove', 'trove-conductor')
        assert CONF.log_file == 'mine.log'
    finally:
        CONF.clear_override('log_file')


def test_no_log_dir_keeps_stderr(monkeypatch):
    monkeypatch.setattr(service.logging, 'setup', lambda conf, project: None)
    service.setup_logging('trove', 'trove-api')
    assert CONF.log_file is None
