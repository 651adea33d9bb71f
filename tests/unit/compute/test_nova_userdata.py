"""The cloud-init userdata of a nova guest.

The install command is run for real with sh, in a tmp dir standing in for
the guest's root (the absolute paths of the document are rewritten into
it), so what it does to a guest with and without the agent is checked, not
just its text.
"""
import configparser
import os
import subprocess

import pytest
import yaml

from trove.compute import nova_userdata
from trove.conf import CONF

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
SHIPPED_UNIT = os.path.join(REPO, 'etc', 'systemd', 'trove-guestagent.service')
GUEST_PATHS = ('/opt/trove-guestagent', '/usr/local/bin', '/etc/systemd/system',
               '/lib/systemd/system')


def _doc(**kw):
    return yaml.safe_load(nova_userdata.render({'/etc/trove/conf.d/guest_info.conf': 'x'}, **kw))


def _install_cmd(doc):
    return next(c[2] for c in doc['runcmd'] if c[:2] == ['sh', '-c'])


def _run_in(root, cmd):
    for path in GUEST_PATHS:
        os.makedirs(str(root) + path, exist_ok=True)
        cmd = cmd.replace(path, str(root) + path)
    return subprocess.run(['sh', '-c', cmd], capture_output=True, text=True, timeout=30)


def _fake_venv(root):
    venv = str(root) + nova_userdata.GUEST_VENV
    os.makedirs(venv + '/bin', exist_ok=True)
    os.makedirs(os.path.dirname(str(root) + nova_userdata.VENV_UNIT), exist_ok=True)
    with open(venv + '/bin/trove-guestagent', 'w') as f:
        f.write('#!/bin/sh\n')
    os.chmod(venv + '/bin/trove-guestagent', 0o755)
    with open(SHIPPED_UNIT) as src, open(str(root) + nova_userdata.VENV_UNIT, 'w') as dst:
        dst.write(src.read())


def test_no_apt_on_boot_and_no_unit_of_its_own():
    doc = _doc(device='/dev/vdb')
    assert 'package_update' not in doc and 'packages' not in doc
    assert 'package_upgrade' not in doc
    paths = [f['path'] for f in doc['write_files']]
    assert paths == ['/etc/trove/conf.d/guest_info.conf']
    assert ['systemctl', 'enable', '--now', '--no-block', 'trove-guestagent.service'] \
        in doc['runcmd']


def test_default_never_installs_from_pypi():
    assert CONF.guest_package == ''
    cmd = _install_cmd(_doc())
    assert 'pip' not in cmd and 'apt-get' not in cmd


def test_image_without_agent_fails_loudly(tmp_path):
    res = _run_in(tmp_path, _install_cmd(_doc()))
    assert res.returncode == 1
    assert 'missing from the image' in res.stderr and 'guest_package is empty' in res.stderr
    assert not os.path.lexists(str(tmp_path) + nova_userdata.AGENT_LINK)


def test_image_with_agent_gets_link_and_shipped_unit(tmp_path):
    _fake_venv(tmp_path)
    res = _run_in(tmp_path, _install_cmd(_doc()))
    assert res.returncode == 0, res.stderr
    link = str(tmp_path) + nova_userdata.AGENT_LINK
    assert os.readlink(link) == str(tmp_path) + nova_userdata.GUEST_VENV + '/bin/trove-guestagent'
    installed = tmp_path / 'etc/systemd/system/trove-guestagent.service'
    assert installed.read_text() == open(SHIPPED_UNIT).read()


def test_unit_already_in_the_image_is_kept(tmp_path):
    _fake_venv(tmp_path)
    own = tmp_path / 'lib/systemd/system/trove-guestagent.service'
    own.parent.mkdir(parents=True)
    own.write_text('[Unit]\n')
    assert _run_in(tmp_path, _install_cmd(_doc())).returncode == 0
    assert not (tmp_path / 'etc/systemd/system/trove-guestagent.service').exists()


def test_guest_package_is_the_pip_fallback():
    CONF.set_override('guest_package', 'https://example.org/trove 1.whl')
    try:
        cmd = _install_cmd(_doc())
    finally:
        CONF.clear_override('guest_package')
    assert "/opt/trove-guestagent/bin/pip install --quiet 'https://example.org/trove 1.whl'" \
        in cmd
    # The venv module is fetched only when python3 -m venv fails.
    assert cmd.index('python3 -m venv /opt') < cmd.index('apt-get update')


def test_shipped_unit_runs_the_linked_agent_and_wheel_carries_it():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(SHIPPED_UNIT)
    assert unit['Service']['ExecStart'].split()[0] == nova_userdata.AGENT_LINK
    setup = configparser.ConfigParser()
    setup.read(os.path.join(REPO, 'setup.cfg'))
    data = setup['files']['data_files']
    assert 'share/trove/systemd =\netc/systemd/trove-guestagent.service' in data
    assert nova_userdata.VENV_UNIT.endswith('/share/trove/systemd/trove-guestagent.service')


@pytest.mark.parametrize('device', [None, '/dev/vdb'])
def test_volume_only_with_a_device(device):
    doc = _doc(device=device)
    assert ('mounts' in doc) == bool(device) and ('fs_setup' in doc) == bool(device)
