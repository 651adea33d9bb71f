"""Unit tests of the local driver with process handling stubbed out."""
import json
import os

import pytest

from trove.common import exception
from trove.compute import base
from trove.compute import local
from trove.compute import local_proc
from trove.conf import CONF


class FakeProc:
    """Stands in for local_proc: records spawns, sessions 'alive' per sid."""

    def __init__(self):
        self.spawned = []
        self.envs = []
        self.alive = set()
        self.powered_off = []
        self.next_pid = 1000
        self.fail = False
        self.nices = []

    def spawn(self, argv, cwd, log_path, env=None, nice=0):
        if self.fail:
            raise OSError('no such interpreter')
        self.next_pid += 1
        self.spawned.append((argv, cwd, log_path))
        self.nices.append(nice)
        self.envs.append(env)
        self.alive.add(self.next_pid)
        return self.next_pid, self.next_pid, 555

    def session_members(self, sid, start_time):
        return [sid] if sid in self.alive else []

    def session_alive(self, sid, start_time):
        return bool(self.session_members(sid, start_time))

    def power_off(self, sid, start_time, timeout):
        self.powered_off.append(sid)
        self.alive.discard(sid)


@pytest.fixture
def fproc(monkeypatch):
    fake = FakeProc()
    for name in ('spawn', 'session_members', 'power_off'):
        monkeypatch.setattr(local_proc, name, getattr(fake, name))
    return fake


@pytest.fixture
def driver(tmp_path, fproc):
    CONF.set_override('base_dir', str(tmp_path / 'local'), group='local')
    yield local.LocalDriver()
    CONF.clear_override('base_dir', group='local')


FILES = {'/etc/trove/conf.d/guest_info.conf': '[DEFAULT]\nguest_id = i1\n'}


def _create(driver, **kw):
    args = dict(name='db1', flavor_id='1', image_id=None, volume_id=None, files=FILES,
                userdata=None, metadata={'trove_instance_id': 'i1'})
    args.update(kw)
    return driver.create_server(**args)


def test_create_server_layout(driver, fproc, tmp_path):
    vol = driver.create_volume('trove-i1', 2)
    assert vol.size == 2 and os.path.isdir(vol.mount_point)
    server = _create(driver, volume_id=vol.id, userdata='#cloud-config\n')
    assert server.status == base.ACTIVE
    assert server.addresses == [{'address': '127.77.0.2', 'type': 'private',
                                 'network': 'local'}]
    assert driver.server_address(server) == '127.77.0.2'
    assert server.volume_id == vol.id and server.metadata == {'trove_instance_id': 'i1'}
    sdir = tmp_path / 'local' / 'servers' / server.id
    conf_d = sdir / 'root' / 'etc' / 'trove' / 'conf.d'
    assert (conf_d / 'guest_info.conf').read_text() == FILES[
        '/etc/trove/conf.d/guest_info.conf']
    assert (conf_d / 'server.conf').read_text() == (
        '[DEFAULT]\nhost_address = 127.77.0.2\nmount_point = %s\nguest_state_dir = %s\n'
        % (vol.mount_point, sdir / 'var'))
    assert (sdir / 'userdata').read_text() == '#cloud-config\n'
    argv, cwd, log_path = fproc.spawned[0]
    # The agent runs under its supervisor (systemd's role on a VM).
    assert argv[1] == '-I' and argv[2].endswith('trove/compute/local_supervisor.py')
    assert argv[argv.index('--status') + 1] == str(sdir / 'var' / 'supervisor.json')
    agent = argv[argv.index('--') + 1:]
    assert agent[1:] == ['-m', 'trove.cmd.guest', '--config-dir', str(conf_d)]
    assert cwd == str(sdir) and log_path == str(sdir / 'var' / 'log' / 'guestagent.log')
    # Guests yield the CPU to the control plane on the same host.
    assert fproc.nices == [CONF.local.agent_nice] and CONF.local.agent_nice > 0


def test_guest_python_option(driver, fproc):
    CONF.set_override('guest_python', '/opt/py/bin/python')
    try:
        _create(driver)
    finally:
        CONF.clear_override('guest_python')
    argv = fproc.spawned[0][0]
    assert argv[0] == '/opt/py/bin/python'
    assert argv[argv.index('--') + 1] == '/opt/py/bin/python'


def test_unsupervised_agent_option(driver, fproc):
    CONF.set_override('supervise_agents', False, group='local')
    try:
        _create(driver)
    finally:
        CONF.clear_override('supervise_agents', group='local')
    assert fproc.spawned[0][0][1:3] == ['-m', 'trove.cmd.guest']


def test_agent_fault_from_supervisor_status(driver, tmp_path):
    server = _create(driver)
    status = tmp_path / 'local' / 'servers' / server.id / 'var' / 'supervisor.json'
    assert driver.agent_fault(server.id) is None
    status.write_text('{"state": "running", "agent_pid": 5}')
    assert driver.agent_fault(server.id) is None
    status.write_text('{"state": "failed", "fault": "the guest agent died 6 times"}')
    assert driver.agent_fault(server.id) == 'the guest agent died 6 times'
    assert driver.agent_fault('../escape') is None
    # A reboot starts a fresh supervisor: the old fault is gone.
    driver.reboot_server(server.id)
    assert driver.agent_fault(server.id) is None


def test_server_without_volume_gets_root_disk(driver, tmp_path):
    server = _create(driver)
    sdir = tmp_path / 'local' / 'servers' / server.id
    conf = (sdir / 'root' / 'etc' / 'trove' / 'conf.d' / 'server.conf').read_text()
    assert 'mount_point = %s\n' % (sdir / 'root' / 'var' / 'lib' / 'trove' / 'volume') in conf


def test_addresses_unique_and_reused(driver):
    first = _create(driver)
    second = _create(driver)
    third = _create(driver)
    addrs = [driver.server_address(s) for s in (first, second, third)]
    assert addrs == ['127.77.0.2', '127.77.0.3', '127.77.0.4']
    driver.delete_server(second.id)
    assert driver.server_address(_create(driver)) == '127.77.0.3'


def test_address_prefix_option(driver):
    CONF.set_override('address_prefix', '127.99', group='local')
    try:
        assert driver.server_address(_create(driver)) == '127.99.0.2'
    finally:
        CONF.clear_override('address_prefix', group='local')


def test_rejects_escaping_file_paths(driver, tmp_path):
    with pytest.raises(exception.InvalidValue):
        _create(driver, files={'/etc/../../../evil': 'x'})
    with pytest.raises(exception.InvalidValue):
        _create(driver, files={'relative/path': 'x'})
    assert driver.list_servers() == []
    assert not (tmp_path / 'evil').exists()


def test_unknown_flavor_and_volume(driver):
    with pytest.raises(exception.FlavorNotFound):
        _create(driver, flavor_id='99')
    with pytest.raises(exception.ComputeError):
        _create(driver, volume_id='no-such-volume')


def test_spawn_failure_is_error(driver, fproc):
    fproc.fail = True
    assert _create(driver).status == base.ERROR


def test_status_shutdown_when_session_empty(driver, fproc):
    server = _create(driver)
    fproc.alive.clear()
    assert driver.get_server(server.id).status == base.SHUTDOWN


def test_found_again_by_a_new_driver(driver):
    server = _create(driver)
    again = local.LocalDriver().get_server(server.id)
    assert again == server
    assert [s.id for s in local.LocalDriver().list_servers()] == [server.id]


def test_list_skips_half_created(driver, tmp_path):
    server = _create(driver)
    (tmp_path / 'local' / 'servers' / 'half').mkdir()
    assert [s.id for s in driver.list_servers()] == [server.id]
    driver.delete_server('half')
    assert not (tmp_path / 'local' / 'servers' / 'half').exists()


def test_get_unknown_server(driver):
    for bad in ('nope', '../servers', ''):
        with pytest.raises(exception.ComputeInstanceNotFound):
            driver.get_server(bad)


def test_delete_server(driver, fproc, tmp_path):
    server = _create(driver)
    driver.delete_server(server.id)
    assert fproc.powered_off == [fproc.next_pid]
    assert not (tmp_path / 'local' / 'servers' / server.id).exists()
    with pytest.raises(exception.ComputeInstanceNotFound):
        driver.get_server(server.id)
    driver.delete_server(server.id)  # idempotent
    driver.delete_server('../../etc')  # never touches anything outside


def test_reboot_server(driver, fproc):
    server = _create(driver)
    first_pid = fproc.next_pid
    driver.reboot_server(server.id)
    assert fproc.powered_off == [first_pid]
    assert len(fproc.spawned) == 2
    assert driver.get_server(server.id).status == base.ACTIVE
    with pytest.raises(exception.ComputeInstanceNotFound):
        driver.reboot_server('missing')


def test_volumes(driver):
    vol = driver.create_volume('v', 3)
    assert driver.get_volume(vol.id) == vol
    driver.delete_volume(vol.id)
    assert not os.path.exists(vol.mount_point)
    driver.delete_volume(vol.id)
    driver.delete_volume('../x')


def test_flavors(driver):
    assert len(driver.list_flavors()) == 6
    assert driver.get_flavor('5').ram == 8192
    assert driver.get_flavor(2).name == 'm1.small'
    with pytest.raises(exception.FlavorNotFound):
        driver.get_flavor('42')


def test_console_output_is_the_tail_of_the_agent_output(driver):
    server = _create(driver)
    log = os.path.join(driver.server_dir(server.id), 'var', 'log', 'guestagent.log')
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, 'w') as f:
        f.write(''.join('line %d\n' % i for i in range(500)))
    out = driver.console_output(server.id, length=3)
    assert out == 'line 497\nline 498\nline 499'


def test_console_output_of_a_server_without_output_is_none(driver):
    server = _create(driver)
    log = os.path.join(driver.server_dir(server.id), 'var', 'log', 'guestagent.log')
    if os.path.exists(log):
        os.remove(log)
    assert driver.console_output(server.id) is None


def _images(driver, images):
    os.makedirs(driver.base_dir, exist_ok=True)
    with open(os.path.join(driver.base_dir, 'images.json'), 'w') as f:
        json.dump(images, f)


def test_unknown_image_is_refused_and_known_image_sets_the_path(driver, fproc):
    with pytest.raises(exception.ComputeError, match='image nope not found'):
        _create(driver, image_id='nope')
    _images(driver, [{'id': 'mariadb-next', 'bin_dirs': ['/opt/mariadb-next/bin']}])
    _create(driver, image_id='mariadb-next')
    env = fproc.envs[-1]
    assert env['PATH'].split(os.pathsep)[0] == '/opt/mariadb-next/bin'
    assert env['TROVE_IMAGE_ID'] == 'mariadb-next'
    _create(driver, image_id='')                    # the built-in host image
    assert fproc.envs[-1]['TROVE_IMAGE_ID'] == 'local'


def test_rebuild_keeps_volume_and_address_and_gives_a_new_root(driver, fproc):
    _images(driver, [{'id': 'img-b', 'bin_dirs': ['/opt/b/bin']}])
    vol = driver.create_volume('trove-i1', 1)
    server = _create(driver, volume_id=vol.id)
    sdir = driver.server_dir(server.id)
    with open(os.path.join(vol.mount_point, 'data'), 'w') as f:
        f.write('kept')
    with open(os.path.join(sdir, 'var', 'prepare.done'), 'w') as f:
        f.write('done')
    stray = os.path.join(sdir, 'root', 'stray')
    with open(stray, 'w') as f:
        f.write('x')
    old_pid = fproc.spawned and fproc.next_pid
    driver.rebuild_server(server.id, 'img-b', {'/etc/trove/conf.d/guest_info.conf': 'new\n'})
    again = driver.get_server(server.id)
    assert again.addresses == server.addresses and again.volume_id == vol.id
    assert fproc.powered_off == [old_pid] and fproc.next_pid == old_pid + 1
    assert fproc.envs[-1]['TROVE_IMAGE_ID'] == 'img-b'
    with open(os.path.join(vol.mount_point, 'data')) as f:
        assert f.read() == 'kept'
    assert not os.path.exists(os.path.join(sdir, 'var', 'prepare.done'))
    assert not os.path.exists(stray)
    with open(os.path.join(sdir, 'root', 'etc', 'trove', 'conf.d', 'guest_info.conf')) as f:
        assert f.read() == 'new\n'
    with pytest.raises(exception.ComputeError):
        driver.rebuild_server(server.id, 'unknown', {})
