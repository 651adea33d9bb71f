"""Volume deletion and extension of the nova driver over the HTTP fake."""
import pytest

from tests.unit.compute import nova_fake_cloud as fc
from trove.common import exception


cloud = pytest.fixture(fc.cloud)
driver = pytest.fixture(fc.driver)

def test_delete_attached_volume_detaches_first(cloud, driver):
    vid = cloud.add_volume(status='in-use', attachments=[
        {'server_id': 'srv-1', 'attachment_id': 'a1', 'volume_id': 'x', 'device': '/dev/vdb',
         'id': 'x'}])
    driver.delete_volume(vid)
    calls = [c[:2] for c in cloud.calls() if c[0] != 'GET']
    assert calls == [
        ('DELETE', '/v2.1/servers/srv-1/os-volume_attachments/%s' % vid),
        ('DELETE', '/v3/%s/volumes/%s' % (fc.PROJECT, vid))]
    assert vid not in cloud.volumes


def test_delete_available_volume_and_unknown_volume(cloud, driver):
    vid = cloud.add_volume()
    driver.delete_volume(vid)
    driver.delete_volume(vid)  # already gone: nothing to do, no error
    deletes = [c for c in cloud.calls('DELETE')]
    assert deletes == [('DELETE', '/v3/%s/volumes/%s' % (fc.PROJECT, vid), None)]


def test_extend_volume(cloud, driver):
    vid = cloud.add_volume(status='in-use', size=1, attachments=[{'server_id': 's'}])
    vol = driver.extend_volume(vid, 3)
    req = cloud.last_request('POST', '/volumes/%s/action' % vid)
    assert req.json() == {'os-extend': {'new_size': 3}}
    # Extending an attached volume needs microversion 3.42.
    assert req.headers['OpenStack-API-Version'] == 'volume 3.42'
    assert (vol.size, vol.status) == (3, 'in-use')


def test_extend_unknown_volume(cloud, driver):
    with pytest.raises(exception.NotFound):
        driver.extend_volume('nope', 3)
