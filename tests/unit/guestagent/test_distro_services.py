"""ensure_packages keeps the distribution's engine services down.

apt-get and systemctl are stand-in scripts on PATH (a unit test cannot
install packages); they record what the agent made them do and what
policy-rc.d said while the "install" ran, so the assertions are about the
agent's real sequence of calls and files.
"""
import os
import stat

import pytest

from trove.conf import CONF
from trove.guestagent.engines import distro_services, process

APT = r'''#!/bin/sh
echo "apt-get $*" >> "$LOG"
[ "$1" = install ] || exit 0
"$POLICY" mariadb.service start; echo "policy $?" >> "$LOG"
printf '#!/bin/sh\n' > "$BIN/fake-mariadbd"; chmod 755 "$BIN/fake-mariadbd"
: > "$UNITS/mariadb.service"; : > "$UNITS/mariadb.socket"
'''
SYSTEMCTL = '#!/bin/sh\necho "systemctl $*" >> "$LOG"\n'


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A fake root: bin dir on PATH, unit dir, policy-rc.d path, call log."""
    paths = {k: tmp_path / k for k in ('bin', 'units', 'run')}
    for p in paths.values():
        p.mkdir()
    paths['log'] = tmp_path / 'calls.log'
    paths['policy'] = tmp_path / 'policy-rc.d'
    for name, text in (('apt-get', APT), ('systemctl', SYSTEMCTL)):
        (paths['bin'] / name).write_text(text)
        (paths['bin'] / name).chmod(0o755)
    monkeypatch.setenv('PATH', '%s:%s' % (paths['bin'], os.environ['PATH']))
    for var, key in (('LOG', 'log'), ('POLICY', 'policy'), ('BIN', 'bin'), ('UNITS', 'units')):
        monkeypatch.setenv(var, str(paths[key]))
    monkeypatch.setattr(distro_services, 'POLICY_RC_D', str(paths['policy']))
    monkeypatch.setattr(distro_services, 'UNIT_DIRS', (str(paths['units']),))
    monkeypatch.setattr(distro_services, 'SYSTEMD_RUNTIME', str(paths['run']))
    CONF.set_override('install_packages', True)
    yield paths
    CONF.clear_override('install_packages')


def _calls(host):
    return host['log'].read_text().splitlines()


def test_install_forbids_starts_then_masks_new_units(host):
    process.ensure_packages(['fake-mariadbd'], ['mariadb-server'],
                            units=distro_services.ENGINE_UNITS['mariadb'])
    calls = _calls(host)
    assert calls[0] == 'apt-get update'
    assert calls[1].startswith('apt-get install -y --no-install-recommends mariadb-server')
    # policy-rc.d was in place during the install and forbade the start...
    assert calls[2] == 'policy 101'
    # ...and is gone afterwards.
    assert not os.path.lexists(host['policy'])
    assert calls[3:] == ['systemctl disable --now mariadb.service mariadb.socket',
                         'systemctl mask mariadb.service mariadb.socket']


def test_units_present_before_the_install_are_left_alone(host):
    (host['units'] / 'mariadb.service').write_text('[Unit]\n')
    process.ensure_packages(['fake-mariadbd'], ['mariadb-server'],
                            units=distro_services.ENGINE_UNITS['mariadb'])
    assert _calls(host)[3:] == ['systemctl disable --now mariadb.socket',
                                'systemctl mask mariadb.socket']


def test_without_running_systemd_units_are_masked_offline(host):
    host['run'].rmdir()
    process.ensure_packages(['fake-mariadbd'], ['mariadb-server'],
                            units=distro_services.ENGINE_UNITS['mariadb'])
    assert _calls(host)[3:] == ['systemctl --root=/ disable mariadb.service mariadb.socket',
                                'systemctl --root=/ mask mariadb.service mariadb.socket']


def test_present_binaries_install_nothing(host):
    process.ensure_packages(['sh'], ['mariadb-server'], units=('mariadb.service',))
    assert not host['log'].exists()


def test_operator_policy_rc_d_is_restored(host):
    host['policy'].write_text('#!/bin/sh\nexit 0\n')
    with distro_services.starts_forbidden():
        assert 'exit 101' in host['policy'].read_text()
        assert host['policy'].stat().st_mode & stat.S_IXUSR
    assert host['policy'].read_text() == '#!/bin/sh\nexit 0\n'


def test_policy_rc_d_removed_when_the_install_fails(host):
    (host['bin'] / 'apt-get').write_text('#!/bin/sh\n[ "$1" = install ] && exit 100\nexit 0\n')
    with pytest.raises(Exception, match='exit'):
        process.ensure_packages(['fake-mariadbd'], ['mariadb-server'], units=('mariadb.service',))
    assert not os.path.lexists(host['policy'])



def test_image_builder_masks_the_same_units():
    here = os.path.dirname(__file__)
    builder = os.path.join(here, '..', '..', '..', 'tools', 'guest-image', 'build')
    text = open(builder).read()
    for units in distro_services.ENGINE_UNITS.values():
        for unit in units:
            assert unit in text, unit
