"""The spare pool against the real local driver, with a stand-in agent.

The stand-in behaves like a spare agent: it marks itself ready and, on
SIGHUP, copies the guest_info.conf it was handed to var/claimed.
"""
import json
import os
import signal
import sys
import time
import types

import pytest

from trove.compute import local
from trove.compute import local_proc
from trove.conf import CONF
from trove.taskmanager import spares
from trove.taskmanager.flows.create import CreateRequest

STANDIN = r'''
import os, signal, time
os.makedirs('var', exist_ok=True)
def claimed(*_):
    with open('root/etc/trove/conf.d/guest_info.conf') as f:
        data = f.read()
    with open('var/claimed', 'w') as f:
        f.write(data)
signal.signal(signal.SIGHUP, claimed)
if os.environ.get('STANDIN_READY', '1') == '1':
    with open('var/spare.ready', 'w') as f:
        f.write(str(os.getpid()))
while True:
    time.sleep(0.1)
'''


@pytest.fixture
def driver(tmp_path, monkeypatch):
    CONF.set_override('spare_servers', {'mariadb': '1'}, group='local')
    CONF.set_override('address_prefix', '127.251', group='local')
    drv = local.LocalDriver(agent_argv=[sys.executable, '-c', STANDIN],
                            base_dir=str(tmp_path / 'local'))
    yield drv
    for server in drv.list_servers():
        drv.delete_server(server.id)
    CONF.clear_override('spare_servers', group='local')
    CONF.clear_override('address_prefix', group='local')


def _wait(cond, timeout=20):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, 'condition not met in time'
        time.sleep(0.05)


def _ready_spares(drv):
    return [s for s in drv.list_spares('mariadb') if s.ready and s.alive]


def _req(**kw):
    args = dict(instance_id='i-1', flavor={'id': '3', 'ram': 2048},
                datastore_manager='mariadb', ds_version='10.11', volume_size=4)
    args.update(kw)
    return CreateRequest(**args)


INST = types.SimpleNamespace(id='i-1', name='shop-db', tenant_id='t-1')
FILES = {'/etc/trove/conf.d/guest_info.conf': '[DEFAULT]\nguest_id = i-1\n'}


def test_refill_starts_a_spare_that_claim_hands_an_identity(driver):
    spares.refill(driver)
    _wait(lambda: _ready_spares(driver))
    [spare] = driver.list_spares('mariadb')
    server, volume_id = spares.claim(driver, _req(), INST, FILES)
    assert server.id == spare.server_id and volume_id == spare.volume_id
    sdir = driver.server_dir(server.id)
    claimed = os.path.join(sdir, 'var', 'claimed')
    _wait(lambda: os.path.exists(claimed))
    with open(claimed) as f:
        assert 'guest_id = i-1' in f.read()
    with open(os.path.join(sdir, 'state.json')) as f:
        st = json.load(f)
    assert st['name'] == 'shop-db' and st['flavor_id'] == '3'
    assert st['metadata'] == {'trove_instance_id': 'i-1', 'trove_project_id': 't-1'}
    assert driver.get_volume(volume_id).size == 4
    # No longer a spare; the next refill starts a replacement.
    assert driver.list_spares('mariadb') == []
    assert spares.claim(driver, _req(), INST, FILES) is None
    spares.refill(driver)
    [fresh] = driver.list_spares('mariadb')
    assert fresh.server_id != server.id


def test_claim_leaves_spares_alone_for_restores_and_volumeless_builds(driver):
    spares.refill(driver)
    _wait(lambda: _ready_spares(driver))
    assert spares.claim(driver, _req(backup_id='b-1'), INST, FILES) is None
    assert spares.claim(driver, _req(volume_size=None), INST, FILES) is None
    assert spares.claim(driver, _req(datastore_manager='redis'), INST, FILES) is None
    assert len(_ready_spares(driver)) == 1


def test_a_spare_that_is_not_ready_is_never_claimed(driver, monkeypatch):
    monkeypatch.setenv('STANDIN_READY', '0')
    spares.refill(driver)
    [spare] = driver.list_spares('mariadb')
    _wait(lambda: local_proc.session_members(*_session(driver, spare.server_id)))
    assert spares.claim(driver, _req(), INST, FILES) is None
    # Past the boot timeout it is replaced.
    CONF.set_override('spare_boot_timeout', 10, group='local')
    try:
        monkeypatch.setattr(local.state, 'age_seconds', lambda created: 11)
        monkeypatch.setenv('STANDIN_READY', '1')
        spares.refill(driver)
    finally:
        CONF.clear_override('spare_boot_timeout', group='local')
    [fresh] = driver.list_spares('mariadb')
    assert fresh.server_id != spare.server_id
    assert not os.path.exists(driver.server_dir(spare.server_id))


def _session(driver, server_id):
    with open(os.path.join(driver.server_dir(server_id), 'state.json')) as f:
        st = json.load(f)
    return st['sid'], st['start_time']


def test_a_dead_spare_is_replaced_with_its_volume(driver):
    spares.refill(driver)
    _wait(lambda: _ready_spares(driver))
    [spare] = driver.list_spares('mariadb')
    sid, _ = _session(driver, spare.server_id)
    os.killpg(sid, signal.SIGKILL)
    _wait(lambda: not driver.list_spares('mariadb')[0].alive)
    spares.refill(driver)
    [fresh] = driver.list_spares('mariadb')
    assert fresh.server_id != spare.server_id
    assert not os.path.exists(driver.server_dir(spare.server_id))
    assert not os.path.exists(os.path.join(driver.volumes_dir, spare.volume_id))


def test_pool_shrinks_to_its_configured_size(driver):
    CONF.set_override('spare_servers', {'mariadb': '2'}, group='local')
    spares.refill(driver)
    assert len(driver.list_spares('mariadb')) == 2
    CONF.set_override('spare_servers', {'mariadb': '0'}, group='local')
    spares.refill(driver)
    assert driver.list_spares('mariadb') == []
    assert driver.list_servers() == []


def test_drain_removes_the_spares_of_every_manager(driver):
    CONF.set_override('spare_servers', {'mariadb': '1', 'redis': '1'}, group='local')
    spares.refill(driver)
    assert len(driver.list_servers()) == 2
    assert spares.drain(driver) == 2
    assert driver.list_servers() == []
    assert os.listdir(driver.volumes_dir) == []
