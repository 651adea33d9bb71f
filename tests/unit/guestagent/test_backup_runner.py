"""Guest backup runner: streaming into a store, failure, verification, restore."""
import os

import pytest

from trove.backup.stores import local
from trove.common import exception
from trove.conf import CONF
from trove.guestagent.backup import base, runner
from trove.guestagent.backup import mariadb as mariadb_strategy


class FakeStrategy(base.BackupStrategy):
    """Streams a shell command's output; restores by concatenating the chain."""

    stream_format = 'raw'

    def __init__(self, script, out_dir=None):
        super().__init__(engine=None)
        self.script, self.out_dir = script, out_dir
        self.parents = []

    def backup_command(self, workdir, parent_meta):
        self.parents.append(parent_meta)
        with open(os.path.join(workdir, 'lsn'), 'w') as f:
            f.write('77')
        return ['sh', '-c', self.script]

    def backup_metadata(self, workdir):
        with open(os.path.join(workdir, 'lsn')) as f:
            return {'to_lsn': int(f.read())}

    def restore(self, chain, workdir):
        out = os.path.join(self.out_dir, 'restored')
        for _meta, open_stream, decompress in chain:
            base.feed(open_stream(), [decompress, ['sh', '-c', 'cat >> %s' % out]],
                      os.path.join(workdir, 'log'))


class Conductor:
    def __init__(self):
        self.reports = []

    def update_backup(self, **kwargs):
        self.reports.append(kwargs)


@pytest.fixture
def env(tmp_path):
    CONF.set_override('guest_state_dir', str(tmp_path / 'state'))
    CONF.set_override('mount_point', str(tmp_path / 'volume'))
    CONF.set_override('progress_interval', 1, group='backup')
    os.makedirs(tmp_path / 'volume')
    yield local.LocalStore(str(tmp_path / 'store'))
    CONF.clear_override('guest_state_dir')
    CONF.clear_override('mount_point')
    CONF.clear_override('progress_interval', group='backup')


def _info(backup_id='b1', parent=None):
    return {'id': backup_id, 'instance_id': 'i1', 'backup_type': 'full',
            'storage_driver': 'local', 'container': 'c', 'parent': parent,
            'datastore': 'mariadb', 'datastore_version': '10.11'}


def test_backup_completes_with_checksum_and_metadata(env):
    conductor = Conductor()
    strategy = FakeStrategy('printf hello-world')
    assert runner.run_backup(strategy, _info(), conductor, store=env)
    states = [r['state'] for r in conductor.reports]
    assert states[0] == 'BUILDING' and states[-1] == 'COMPLETED'
    done = conductor.reports[-1]
    assert done['instance_id'] == 'i1' and done['backup_id'] == 'b1'
    assert env.exists(done['location']) and done['location'].endswith('b1.raw.' + (
        'zst' if base.compressor('zstd') == 'zstd' else 'gz'))
    meta = env.get_metadata(done['location'])
    assert meta['to_lsn'] == 77 and meta['checksum'] == done['checksum']
    assert meta['datastore_version'] == '10.11' and meta['parent_id'] == ''
    assert done['size'] == pytest.approx(meta['size'] / 1024.0 ** 3)
    # Nothing of the work directory stays behind.
    assert os.listdir(CONF.guest_state_dir) == []


def test_failed_command_reports_failed_and_stores_nothing(env):
    conductor = Conductor()
    strategy = FakeStrategy('printf partial; exit 3')
    assert not runner.run_backup(strategy, _info(), conductor, store=env)
    assert conductor.reports[-1]['state'] == 'FAILED'
    assert not os.path.exists(env.root) or not any(
        files for _d, _s, files in os.walk(env.root))


def test_incremental_gets_parent_metadata_and_restore_chain(env, tmp_path):
    conductor = Conductor()
    runner.run_backup(FakeStrategy('printf full-'), _info('b1'), conductor, store=env)
    full = conductor.reports[-1]
    parent = {'id': 'b1', 'location': full['location'], 'checksum': full['checksum']}
    inc_strategy = FakeStrategy('printf inc')
    runner.run_backup(inc_strategy, _info('b2', parent), conductor, store=env)
    inc = conductor.reports[-1]
    assert inc['state'] == 'COMPLETED'
    assert inc_strategy.parents[0]['to_lsn'] == 77
    assert env.get_metadata(inc['location'])['parent_id'] == 'b1'

    chain = [{'id': 'b1', 'location': full['location'], 'checksum': full['checksum']},
             {'id': 'b2', 'location': inc['location'], 'checksum': inc['checksum']}]
    restorer = FakeStrategy('', out_dir=str(tmp_path))
    runner.run_restore(restorer, {'backup_id': 'b2', 'chain': chain}, store=env)
    assert (tmp_path / 'restored').read_bytes() == b'full-inc'
    assert os.listdir(CONF.mount_point) == []

    # One flipped byte in the full backup: refused before anything is restored.
    with open(full['location'], 'r+b') as f:
        f.seek(3)
        byte = f.read(1)
        f.seek(3)
        f.write(bytes([byte[0] ^ 1]))
    os.unlink(tmp_path / 'restored')
    with pytest.raises(exception.BackupIntegrityError, match='b1 failed verification: '
                                                             'checksum mismatch'):
        runner.run_restore(restorer, {'backup_id': 'b2', 'chain': chain}, store=env)
    assert not (tmp_path / 'restored').exists()


def test_missing_object_is_an_integrity_error(env):
    chain = [{'id': 'b9', 'location': os.path.join(env.root, 'c', 'gone'), 'checksum': 'x'}]
    with pytest.raises(exception.BackupIntegrityError, match='missing'):
        runner.run_restore(FakeStrategy(''), {'backup_id': 'b9', 'chain': chain}, store=env)


def test_mariabackup_checkpoints_and_incremental_argv(tmp_path, monkeypatch):
    # The argv, not the binary: a machine without mariadb-backup builds it too.
    monkeypatch.setattr(mariadb_strategy.process, 'find_binary', lambda name: '/bin/' + name)
    (tmp_path / 'lsn').mkdir()
    (tmp_path / 'lsn' / 'xtrabackup_checkpoints').write_text(
        'backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 45678\nlast_lsn = 45690\n')

    class Engine:
        class paths:
            my_cnf = '/x/my.cnf'

        class secret:
            @staticmethod
            def read():
                return 's3cret'

    strategy = mariadb_strategy.MariaBackup(Engine())
    meta = strategy.backup_metadata(str(tmp_path))
    assert meta == {'from_lsn': 0, 'to_lsn': 45678, 'last_lsn': 45690,
                    'mariabackup_type': 'full-backuped'}
    argv = strategy.backup_command(str(tmp_path), {'to_lsn': '45678'})
    assert '--incremental-lsn=45678' in argv and '--stream=xbstream' in argv
    assert not any('s3cret' in a for a in argv)  # the password stays in a 0600 file
    cnf = tmp_path / 'backup.cnf'
    assert oct(cnf.stat().st_mode & 0o777) == '0o600' and 's3cret' in cnf.read_text()
    with pytest.raises(exception.EngineError, match='to_lsn'):
        strategy.backup_command(str(tmp_path), {'parent_id': 'x'})


def test_guest_prepare_with_bad_backup_fails_readably(tmp_path, monkeypatch):
    """A restore that fails verification ends prepare with a fault; the engine
    is never prepared on a half-restored datadir."""
    from tests.unit.guestagent.test_manager import Engine, Reporter
    from trove.guestagent import manager

    CONF.set_override('guest_state_dir', str(tmp_path))
    CONF.set_override('datastore_manager', 'mariadb')
    try:
        def bad_restore(strategy, info):
            raise exception.BackupIntegrityError(backup_id='b1',
                                                 detail='checksum mismatch (...)')

        monkeypatch.setattr(manager.backup_runner, 'run_restore', bad_restore)
        engine, reporter = Engine(), Reporter()
        mgr = manager.Manager(engine=engine, reporter=reporter)
        mgr.prepare(None, {'backup_info': {'backup_id': 'b1', 'chain': []}})
        assert reporter.errors == ['Prepare failed: Backup b1 failed verification: '
                                   'checksum mismatch (...)']
        assert reporter.sent[-1] == 'failed to spawn' and engine.prepared == []
    finally:
        CONF.clear_override('guest_state_dir')
        CONF.clear_override('datastore_manager')


def test_guest_create_backup_for_unsupported_datastore_reports_failed(tmp_path):
    from tests.unit.guestagent.test_manager import Engine, Reporter
    from trove.guestagent import manager

    CONF.set_override('datastore_manager', 'cassandra')
    CONF.set_override('guest_id', 'i1')
    try:
        reporter = Reporter()
        reporter.conductor = Conductor()
        mgr = manager.Manager(engine=Engine(), reporter=reporter)
        mgr.create_backup(None, backup_info={'id': 'b1'})
        assert reporter.conductor.reports == [
            {'instance_id': 'i1', 'backup_id': 'b1', 'state': 'FAILED'}]
    finally:
        CONF.clear_override('datastore_manager')
        CONF.clear_override('guest_id')


def test_widen_gives_pipes_a_one_megabyte_buffer():
    import fcntl
    import os
    from trove.guestagent.backup import base
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, 'rb') as reader, os.fdopen(write_fd, 'wb') as writer:
        f_getpipe_sz = getattr(fcntl, 'F_GETPIPE_SZ', 1032)
        assert fcntl.fcntl(reader.fileno(), f_getpipe_sz) == 64 * 1024
        base.widen(writer)
        assert fcntl.fcntl(reader.fileno(), f_getpipe_sz) == base.CHUNK
    base.widen(None)  # a stage without a pipe is left alone


@pytest.mark.parametrize('replica', [False, True])
def test_a_replica_restore_keeps_the_copy_exact(tmp_path, monkeypatch, replica):
    """A replica's snapshot is restored with as_replica set and without the
    credential reset of after_restore (the copy must stay its primary's)."""
    from tests.unit.guestagent.test_manager import Engine, Reporter
    from trove.guestagent import backup as guest_backup
    from trove.guestagent import manager

    class Strategy(FakeStrategy):
        def __init__(self):
            super().__init__('')
            self.seen, self.reset = None, False

        def after_restore(self, req):
            self.reset = True

    strategy = Strategy()
    CONF.set_override('guest_state_dir', str(tmp_path))
    CONF.set_override('datastore_manager', 'mariadb')
    try:
        monkeypatch.setattr(guest_backup, 'get_strategy', lambda manager_, engine: strategy)
        monkeypatch.setattr(manager.backup_runner, 'run_restore',
                            lambda s, info: setattr(s, 'seen', s.as_replica))
        engine = Engine()
        mgr = manager.Manager(engine=engine, reporter=Reporter())
        mgr.prepare(None, {'backup_info': {'backup_id': 'b1', 'chain': []},
                           'replica': replica})
        assert len(engine.prepared) == 1 and engine.prepared[0].replica is replica
        assert strategy.seen is replica and strategy.reset is (not replica)
    finally:
        CONF.clear_override('guest_state_dir')
        CONF.clear_override('datastore_manager')
