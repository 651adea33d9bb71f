"""Archive retention: what kept backups and open windows need stays, nothing else.

The rules on their own, then against a real local store and the unit
database: kept backups protect their segments, the earliest restorable time
moves with the oldest kept backup, a deleted instance keeps its archive
while its backups are kept, turning PITR off deletes the archive.
"""
import datetime

import pytest

from trove.api.controllers import pitr as pitr_api
from trove.backup import archive_keys
from trove.backup import pitr as pitr_window
from trove.backup.stores import local
from trove.common.states import BackupState
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import backups as db_backups
from trove.db import datastores
from trove.db import models
from trove.db import pitr as db_pitr
from trove.taskmanager import archive_retention as retention
from trove.taskmanager.flows import backup as backup_flow

CONTAINER = 'archives'


def _bin(n):
    return 'mysql-bin.%06d' % n


def test_first_needed_is_the_earliest_in_log_order():
    metas = [{'binlog_file': _bin(12)}, {'binlog_file': _bin(3)}, {'binlog_file': _bin(7)}]
    assert retention.first_needed('mariadb', metas) == _bin(3)
    # Numbers past six digits still order as numbers, not as text.
    assert retention.first_needed('mysql', [{'binlog_file': 'mysql-bin.1000000'},
                                            {'binlog_file': _bin(999999)}]) == _bin(999999)
    pg = [{'pg_backup': 'base', 'start_wal': '000000010000000000000009'},
          {'pg_backup': 'base', 'start_wal': '000000010000000000000004'}]
    assert retention.first_needed('postgresql', pg) == '000000010000000000000004'
    # A backup that names no position (a WAL incremental is no base): prune nothing.
    assert retention.first_needed('postgresql', pg + [{'pg_backup': 'wal'}]) is None
    assert retention.first_needed('mariadb', [{}]) is None
    assert retention.first_needed('mariadb', []) is None


def test_doomed_are_the_chunks_of_older_segments_only():
    chunks = {_bin(1): [(0, 'a0'), (100, 'a1')], _bin(2): [(0, 'b0')],
              _bin(3): [(0, 'c0')], 'mysql-bin.index': [(0, 'x')]}
    assert retention.doomed('mariadb', chunks, _bin(2)) == ['a0', 'a1']
    assert retention.doomed('mariadb', chunks, _bin(1)) == []
    wal = {'000000010000000000000002': [(0, 'w2')], '000000010000000000000003': [(0, 'w3')],
           '00000001.history': [(0, 'h1')], '00000002.history': [(0, 'h2')],
           '000000020000000000000003': [(0, 'v3')]}
    # A timeline's history sorts before its segments; a later timeline after all of them.
    assert retention.doomed('postgresql', wal, '000000010000000000000003') == ['h1', 'w2']
    assert retention.doomed('postgresql', wal, '000000020000000000000003') == [
        'h1', 'h2', 'w2', 'w3']
    with pytest.raises(KeyError):
        archive_keys.rules('redis')


@pytest.fixture
def store(db, tmp_path):
    CONF.set_override('local_store_path', str(tmp_path / 'store'), group='backup')
    yield local.LocalStore(str(tmp_path / 'store'))
    CONF.clear_override('local_store_path', group='backup')


def _archive(store, segments):
    """A MariaDB instance archiving since now, with 2 chunks per segment."""
    inst = db_api.create_instance(dict(name='a', tenant_id='t', flavor_id='1',
                                       datastore_version_id=_version()))
    db_pitr.request(inst.id, True, CONTAINER, 'local')
    row = db_pitr.get(inst.id)
    for n in segments:
        for offset in (0, 4):
            store.put_stream(CONTAINER, archive_keys.chunk_name(row.prefix, _bin(n), offset),
                             [b'1234'], {'format': 'archive-chunk'})
    return inst, row.prefix


def _version():
    return datastores.resolve('mariadb', '10.11')[1].id


def _start(inst_id, since=None):
    db_pitr.mark_started(inst_id, since or models.utcnow())


def _full(store, inst, binlog):
    row = db_backups.create_backup(dict(name='f', tenant_id='t', instance_id=inst.id,
                                        backup_type='full', storage_driver='local'))
    stored = store.put_stream('backups', row.id, [b'data'], {'binlog_file': _bin(binlog)})
    db_backups.update_backup(row.id, state=BackupState.COMPLETED, location=stored.location,
                             checksum=stored.checksum, size=0.1)
    return db_backups.get_backup(row.id)


def _shipped(inst_id):
    """The guest reported it archived up to a minute from now."""
    from sqlalchemy import update

    from trove.db.session import writer
    with writer() as session:
        session.execute(update(models.InstancePitr).where(
            models.InstancePitr.instance_id == inst_id).values(
                latest=models.utcnow() + datetime.timedelta(minutes=1)))


def _segments(store, prefix):
    return sorted(archive_keys.list_chunks(store, CONTAINER, prefix))


def test_kept_backups_keep_their_segments_and_the_window_moves(store):
    inst, prefix = _archive(store, [1, 2, 3, 4])
    # Taken before the archive ran: no base, so it protects nothing.
    _full(store, inst, 1)
    _start(inst.id)
    assert retention.prune_instance(inst.id) == 0      # no usable base yet
    b2 = _full(store, inst, 2)
    b3 = _full(store, inst, 3)
    _shipped(inst.id)
    assert retention.prune_instance(inst.id) == 2      # both chunks of binlog 1
    assert _segments(store, prefix) == [_bin(2), _bin(3), _bin(4)]
    shown = pitr_api.view(db_api.get_instance(inst.id))
    assert shown['earliest_restorable_time'] == _iso(b2.updated)
    # The oldest kept backup goes: its segment goes, the window starts later.
    backup_flow.delete_backup(None, b2.id)
    assert _segments(store, prefix) == [_bin(3), _bin(4)]
    shown = pitr_api.view(db_api.get_instance(inst.id))
    assert shown['earliest_restorable_time'] == _iso(b3.updated)
    assert retention.prune_instance(inst.id) == 0      # nothing more to take
    # Every chunk of what is kept is intact and complete.
    assert all(store.exists(loc) for pieces in archive_keys.list_chunks(
        store, CONTAINER, prefix).values() for _o, loc in pieces)


def _iso(when):
    """As the window shows its earliest end: rounded up to a whole second."""
    return pitr_window.Window(when, None).to_dict()['earliest_restorable_time']


def test_an_unreadable_backup_prunes_nothing(store):
    inst, prefix = _archive(store, [1, 2])
    _start(inst.id)
    b2 = _full(store, inst, 2)
    store.delete(b2.location)
    assert retention.prune_instance(inst.id) == 0
    assert _segments(store, prefix) == [_bin(1), _bin(2)]


def test_turning_pitr_off_deletes_the_archive_once_the_guest_stopped(store):
    inst, prefix = _archive(store, [1, 2])
    _start(inst.id)
    _full(store, inst, 1)
    db_pitr.request(inst.id, False, CONTAINER, 'local')
    assert retention.prune_instance(inst.id) == 0      # the guest may still ship
    db_pitr.mark_stopped(inst.id)
    assert retention.prune_instance(inst.id) == 4
    assert _segments(store, prefix) == []
    # Deleted whole: the periodic pass no longer looks at it.
    assert db_pitr.get(inst.id).prefix is None and inst.id not in db_pitr.with_prefix()
    db_pitr.request(inst.id, True, CONTAINER, 'local')     # on again: a new archive
    assert db_pitr.get(inst.id).prefix not in (None, prefix)


def test_a_deleted_instance_keeps_its_archive_while_its_backups_are_kept(store):
    inst, prefix = _archive(store, [1, 2, 3])
    _start(inst.id)
    b2 = _full(store, inst, 2)
    db_api.purge_instance(inst.id)
    assert retention.prune_all() == 2                  # binlog 1 only
    assert _segments(store, prefix) == [_bin(2), _bin(3)]
    assert db_pitr.get(inst.id) is not None
    # The window of the deleted source still serves a restore from its backup.
    source = pitr_api._source(_Ctx(), {'backupRef': b2.id})
    assert source.id == inst.id and source.deleted
    # Its last backup goes: so does the archive, and its record.
    backup_flow.delete_backup(None, b2.id)
    assert _segments(store, prefix) == [] and db_pitr.get(inst.id) is None
    assert retention.prune_all() == 0


def test_a_deleted_instance_without_a_base_loses_its_archive(store):
    inst, prefix = _archive(store, [1])
    _start(inst.id)
    db_api.purge_instance(inst.id)
    assert retention.prune_instance(inst.id) == 2
    assert db_pitr.get(inst.id) is None


class _Ctx:
    owner = 't'


def test_the_delete_flow_prunes_a_deleted_instances_archive(store, monkeypatch):
    """Through delete_instance (fake compute): kept while its backup is kept."""
    from trove.compute import fake
    from trove.taskmanager.flows import delete
    monkeypatch.setattr(delete, '_delete_guest_queues', lambda instance_id: None)
    kept, kept_prefix = _archive(store, [1, 2])
    bare, bare_prefix = _archive(store, [1, 2])
    for inst in (kept, bare):
        _start(inst.id)
    _full(store, kept, 2)
    for inst in (kept, bare):
        delete.delete_instance(None, fake.FakeDriver(), inst.id)
    assert _segments(store, kept_prefix) == [_bin(2)] and db_pitr.get(kept.id) is not None
    assert _segments(store, bare_prefix) == [] and db_pitr.get(bare.id) is None


def test_the_retention_pass_prunes_every_archive(store, monkeypatch):
    """Each retention_interval the schedules job prunes archives without a
    schedule too (what precedes the first backup of an archive)."""
    from trove.taskmanager import backup_schedules as job
    inst, prefix = _archive(store, [1, 2, 3])
    _start(inst.id)
    _full(store, inst, 3)
    monkeypatch.setattr(job, '_LAST_FULL_PRUNE', [None])
    assert job.check(now=models.utcnow(), tm=object()) == []
    assert _segments(store, prefix) == [_bin(3)]
