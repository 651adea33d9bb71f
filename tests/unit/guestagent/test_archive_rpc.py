"""The guest's archive endpoints and restore helpers, on the stand-in streamer."""
import datetime
import os
import time

import pytest

from trove.common import exception
from trove.conf import CONF
from trove.guestagent import archive, archive_rpc
from trove.guestagent.archive import postgresql as pga
from trove.guestagent.archive import restore


class _Guest(archive_rpc.ArchiveEndpoints):
    def __init__(self):
        self.engine = None


@pytest.fixture
def guest_conf(tmp_path, monkeypatch):
    monkeypatch.setitem(archive.STRATEGIES, 'lines',
                        'tests.unit.guestagent.test_archive_shipper:LineStrategy')
    overrides = {'guest_state_dir': str(tmp_path / 'state'),
                 'mount_point': str(tmp_path / 'vol'), 'datastore_manager': 'lines'}
    for key, value in overrides.items():
        CONF.set_override(key, value)
    CONF.set_override('local_store_path', str(tmp_path / 'store'), group='backup')
    guests = []
    yield guests
    for guest in guests:
        guest.stop_archive_thread()
    for key in overrides:
        CONF.clear_override(key)
    CONF.clear_override('local_store_path', group='backup')


def _wait_latest(guest, timeout=20):
    deadline = time.monotonic() + timeout
    while not guest.get_archive_status()['latest_restorable_time']:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return guest.get_archive_status()['latest_restorable_time']


def test_start_resume_and_stop(guest_conf):
    guest = _Guest()
    guest_conf.append(guest)
    assert guest.get_archive_status() == {'enabled': False, 'latest_restorable_time': None}
    assert guest.start_archive(None, container='arch', prefix='pitr/i1',
                               storage_driver='local')['enabled'] is True
    first = guest.archive_shipper
    assert guest.start_archive(None, container='arch', prefix='pitr/i1')['enabled']
    assert guest.archive_shipper is first  # a repeated start changes nothing
    _wait_latest(guest)
    guest.stop_archive_thread()  # the agent stops; archiving stays enabled
    again = _Guest()  # the restarted agent
    guest_conf.append(again)
    again.resume_archive()
    assert again.get_archive_status()['enabled'] is True
    # It goes on from what the first agent shipped (and may have shipped more).
    before, after = first.state.shipped, dict(again.archive_shipper.state.shipped)
    assert before and all(after[key] >= offset for key, offset in before.items())
    strategy = again.archive_shipper.strategy
    assert again.stop_archive(None) == {'enabled': False, 'latest_restorable_time': None}
    assert strategy.ended == 1
    assert not os.path.exists(os.path.join(CONF.guest_state_dir, 'archive.json'))
    fresh = _Guest()
    fresh.resume_archive()
    assert fresh.archive_shipper is None


def test_engine_without_a_strategy_is_refused(guest_conf):
    CONF.set_override('datastore_manager', 'redis')
    with pytest.raises(exception.DatastoreOperationNotSupported):
        _Guest().start_archive(None, container='arch', prefix='pitr/i1')
    assert not os.path.exists(os.path.join(CONF.guest_state_dir, 'archive.json'))


def test_strategies_and_times():
    assert isinstance(archive.get_strategy('postgresql', object()), pga.PgReceiveWal)
    assert restore.parse_time('2026-03-01T10:00:05Z') == datetime.datetime(
        2026, 3, 1, 10, 0, 5, tzinfo=datetime.UTC)
    assert restore.parse_time('2026-03-01T12:00:05+02:00') == datetime.datetime(
        2026, 3, 1, 10, 0, 5, tzinfo=datetime.UTC)
    assert restore.parse_time('2026-03-01 10:00:05').tzinfo == datetime.UTC


def test_start_backup_sets_where_the_archive_begins(guest_conf, tmp_path):
    from trove.backup.stores import local
    store = local.LocalStore(CONF.backup.local_store_path)
    stored = store.put_stream('backups', 'b1.xbstream', [b'data'], {'first': 'seg-000003'})
    guest = _Guest()
    guest_conf.append(guest)
    guest.start_archive(None, container='arch', prefix='pitr/i2', storage_driver='local',
                        start_backup=stored.location)
    assert guest.archive_shipper.strategy.started_from['first'] == 'seg-000003'
    guest.stop_archive_thread()
    again = _Guest()  # the restarted agent starts from the same backup
    guest_conf.append(again)
    again.resume_archive()
    assert again.archive_shipper.strategy.started_from['first'] == 'seg-000003'
