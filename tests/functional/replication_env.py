"""Several private engines of one kind in one test process: a replica set.

Each member has its own directories under one tmp dir, its own 127.230.x.y
address and a free port.  Engines read the address and port from CONF when
they write their config (prepare), so ``as_member`` points CONF at one
member for that call.  Teardown stops every member's engine, kills by pid
any engine process still naming the tmp dir, and removes the dir.
"""
import contextlib
import dataclasses
import os
import shutil
import signal
import tempfile

from tests.functional import engine_env
from trove.conf import CONF
from trove.guestagent.backup import base as backup_base
from trove.guestagent.engines.common import paths as common_paths


@dataclasses.dataclass
class Member:
    """One engine of the set and where it listens."""

    name: str
    address: str
    port: int
    engine: object


def member_paths(paths_cls, base, name):
    root = os.path.join(base, name)
    return paths_cls(datadir=os.path.join(root, 'vol', 'data'),
                     run_dir=os.path.join(root, 'state', 'run'),
                     log_dir=os.path.join(root, 'state', 'log'),
                     state_dir=os.path.join(root, 'state'))


@contextlib.contextmanager
def as_member(member, group):
    """CONF's host_address, port, mount point and state dir of ``member``."""
    paths = member.engine.paths
    values = {'host_address': member.address,
              'mount_point': os.path.dirname(paths.datadir),
              'guest_state_dir': paths.state_dir}
    for key, value in values.items():
        CONF.set_override(key, value)
    CONF.set_override('port', member.port, group=group)
    try:
        yield member
    finally:
        for key in values:
            CONF.clear_override(key)
        CONF.clear_override('port', group=group)


def _paths_cls(engine_cls):
    """The engine's Paths class, found from a default-built engine's module."""
    module = __import__(engine_cls.__module__.rsplit('.', 1)[0] + '.config',
                        fromlist=['Paths'])
    return getattr(module, 'Paths', common_paths.EnginePaths)


@contextlib.contextmanager
def replica_set(addresses, group, programs, prefix, engine_cls, paths_cls=None):
    """Yield ``{'base', 'members': [Member]}``, one member per address."""
    base = tempfile.mkdtemp(prefix=prefix, dir='/tmp')
    paths_cls = paths_cls or _paths_cls(engine_cls)
    members = []
    try:
        for index, address in enumerate(addresses):
            name = 'm%d' % index
            engine = engine_cls(member_paths(paths_cls, base, name))
            members.append(Member(name, address, engine_env.free_port(address), engine))
        yield {'base': base, 'members': members}
    finally:
        for member in members:
            with contextlib.suppress(Exception):
                member.engine.stop()
        for pid in engine_env.engine_pids(programs, (base,)):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)


def backup_into(strategy_cls, source, target, workdir, group):
    """A real hot backup of ``source`` with the guest's backup strategy,
    gzip-streamed to a file, then restored into ``target``'s datadir."""
    os.makedirs(workdir)
    _, compress, decompress = backup_base.COMPRESSORS['gzip']
    stream = os.path.join(workdir, 'backup.gz')
    with as_member(source, group):
        strategy = strategy_cls(source.engine)
        strategy.install()
        argv = strategy.backup_command(workdir, None)
        with open(stream, 'wb') as out:
            for chunk in backup_base.Pipeline(argv, compress,
                                              os.path.join(workdir, 'backup.log')):
                out.write(chunk)
        meta = strategy.backup_metadata(workdir)

    def read():
        with open(stream, 'rb') as f:
            yield from iter(lambda: f.read(1 << 20), b'')

    restore_dir = os.path.join(workdir, 'restore')
    os.makedirs(restore_dir)
    with as_member(target, group):
        target.engine.app.make_dirs()
        strategy_cls(target.engine).restore([(meta, read, decompress)], restore_dir)
