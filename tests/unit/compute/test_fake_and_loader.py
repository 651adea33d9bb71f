"""Unit tests of the fake driver and of get_driver()."""
import pytest

from trove import compute
from trove.common import exception, plugins
from trove.compute import base, fake, local
from trove.conf import CONF


def test_get_driver_by_name():
    assert isinstance(compute.get_driver('fake'), fake.FakeDriver)
    assert isinstance(compute.get_driver('local'), local.LocalDriver)


def test_get_driver_default_from_conf():
    CONF.set_override('compute_driver', 'fake')
    try:
        assert isinstance(compute.get_driver(), fake.FakeDriver)
    finally:
        CONF.clear_override('compute_driver')


def test_get_driver_builtin_fallback(monkeypatch):
    monkeypatch.setattr(plugins.metadata, 'entry_points', lambda group: [])
    monkeypatch.setattr(plugins, '_LOADED', {})  # what the process found so far
    drv = compute.get_driver('local', agent_argv=['true'])
    assert isinstance(drv, local.LocalDriver) and drv.agent_argv == ['true']


def test_classes_are_looked_up_once(monkeypatch):
    scans = []

    def entry_points(group):
        scans.append(group)
        return []
    monkeypatch.setattr(plugins.metadata, 'entry_points', entry_points)
    monkeypatch.setattr(plugins, '_LOADED', {})
    assert compute.get_driver('fake').__class__ is compute.get_driver('fake').__class__
    assert scans == [compute.ENTRY_POINT_GROUP]


def test_get_driver_unknown():
    with pytest.raises(exception.ComputeError):
        compute.get_driver('no-such-driver')


def test_fake_lifecycle():
    drv = fake.FakeDriver()
    assert [f.id for f in drv.list_flavors()] == ['1', '2', '3', '4', '5', '6']
    vol = drv.create_volume('v', 1)
    server = drv.create_server(name='s', flavor_id='1', image_id=None, volume_id=vol.id,
                               files={'/etc/x': 'y'}, userdata=None, metadata={'a': 'b'})
    assert server.status == base.ACTIVE
    assert drv.server_address(server) == '127.77.0.2'
    assert drv.get_server(server.id) is server
    assert drv.files[server.id] == {'/etc/x': 'y'}
    assert vol.status == 'in-use'
    drv.reboot_server(server.id)
    drv.delete_server(server.id)
    drv.delete_server(server.id)
    assert vol.status == 'available'
    with pytest.raises(exception.ComputeInstanceNotFound):
        drv.get_server(server.id)
    drv.delete_volume(vol.id)
    assert drv.volumes == {}
    assert [kw['server_id'] for kw in drv.called('delete_server')] == [server.id] * 2
    assert drv.called('create_server')[0]['metadata'] == {'a': 'b'}


def test_fake_failures_and_boot_status():
    drv = fake.FakeDriver(boot_status=base.ERROR)
    drv.failures['create_volume'] = exception.ComputeError(detail='boom')
    with pytest.raises(exception.ComputeError):
        drv.create_volume('v', 1)
    server = drv.create_server(name='s', flavor_id='2', image_id=None, volume_id=None,
                               files={}, userdata=None, metadata={})
    assert server.status == base.ERROR
    with pytest.raises(exception.FlavorNotFound):
        drv.create_server(name='s', flavor_id='x', image_id=None, volume_id=None,
                          files={}, userdata=None, metadata={})


def test_server_address_helper():
    srv = base.Server(id='1', name='n', status=base.ACTIVE, addresses=[
        {'address': '10.0.0.1', 'type': 'public'}, {'address': '10.0.0.2', 'type': 'private'}])
    assert base.ComputeDriver.server_address(srv) == '10.0.0.2'
    with pytest.raises(exception.ComputeError):
        base.ComputeDriver.server_address(base.Server(id='2', name='n', status='ERROR'))
