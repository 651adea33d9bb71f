"""Local and fake drivers: flavor resize and volume growth are recorded."""
import pytest

from trove.common import exception
from trove.compute import fake, local, local_proc
from trove.conf import CONF
from tests.unit.compute.test_local_driver import FakeProc, _create


@pytest.fixture
def driver(tmp_path, monkeypatch):
    fake_proc = FakeProc()
    for name in ('spawn', 'session_members', 'power_off'):
        monkeypatch.setattr(local_proc, name, getattr(fake_proc, name))
    CONF.set_override('base_dir', str(tmp_path / 'local'), group='local')
    yield local.LocalDriver()
    CONF.clear_override('base_dir', group='local')


def test_local_resize_server_records_flavor(driver):
    server = _create(driver)
    driver.resize_server(server.id, '3')
    assert driver.get_server(server.id).flavor_id == '3'
    with pytest.raises(exception.FlavorNotFound):
        driver.resize_server(server.id, '99')
    assert driver.get_server(server.id).flavor_id == '3'


def test_local_extend_volume_grows_only(driver):
    volume = driver.create_volume('v', 1)
    driver.extend_volume(volume.id, 4)
    assert driver.get_volume(volume.id).size == 4
    with pytest.raises(exception.ComputeError):
        driver.extend_volume(volume.id, 4)
    with pytest.raises(exception.ComputeError):
        driver.extend_volume('00000000-0000-0000-0000-000000000000', 5)


def test_fake_driver_resizes():
    drv = fake.FakeDriver()
    volume = drv.create_volume('v', 1)
    server = drv.create_server('s', '1', None, volume.id, {}, None, {})
    drv.resize_server(server.id, '2')
    drv.extend_volume(volume.id, 2)
    assert drv.get_server(server.id).flavor_id == '2' and drv.volumes[volume.id].size == 2
