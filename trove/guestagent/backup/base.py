"""The interface of a guest backup strategy, and the process pipeline it uses.

A strategy knows one engine's tools: the command that writes a (full or
incremental) backup stream to stdout, what to record about it (LSNs,
positions) and how to turn a verified chain of backup streams back into a
datadir.  Compression, checksums and the store are the runner's business.
"""
import abc
import contextlib
import fcntl
import os
import shutil
import subprocess

from oslo_log import log as logging

from trove.common import exception
from trove.guestagent.engines import process

LOG = logging.getLogger(__name__)
CHUNK = 1024 * 1024
# Linux's F_SETPIPE_SZ (Python's fcntl names it from 3.10 on some builds only).
_F_SETPIPE_SZ = getattr(fcntl, 'F_SETPIPE_SZ', 1031)


def widen(pipe):
    """Give a pipe a 1 MB buffer instead of 64 KB.

    With the default size, decompressing into tar costs a context switch
    per 64 KB: measured on 470 MB, zstd -d | tar -x took 1.3 s, and 0.3 s
    with wide pipes and 1 MB tar records.  Best effort: the kernel's
    pipe-max-size may refuse, and the default still works.
    """
    if pipe is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), _F_SETPIPE_SZ, CHUNK)

# Compressor name -> (file suffix, compress argv, decompress argv).
COMPRESSORS = {
    'zstd': ('zst', ['zstd', '-q', '-1', '-T0', '-c'], ['zstd', '-q', '-d', '-c']),
    'gzip': ('gz', ['gzip', '-1', '-c'], ['gzip', '-d', '-c']),
}


def compressor(preferred):
    """``preferred`` when its binary exists, else gzip."""
    if preferred in COMPRESSORS and process.find_binary(preferred):
        return preferred
    return 'gzip'


class BackupStrategy(abc.ABC):
    """Backup and restore tooling of one datastore."""

    name = 'abstract'
    stream_format = 'raw'

    def __init__(self, engine):
        self.engine = engine

    def install(self):  # noqa: B027 - optional hook
        """Install the tools when missing."""

    @abc.abstractmethod
    def backup_command(self, workdir, parent_meta):
        """argv writing the backup stream to stdout; incremental when
        ``parent_meta`` (the parent's stored metadata) is given."""

    def backup_metadata(self, workdir):
        """What to record beside the object once the command succeeded."""
        return {}

    @abc.abstractmethod
    def restore(self, chain, workdir):
        """Rebuild the datadir from ``chain``: [(metadata, open_stream)] with
        the full backup first; ``open_stream()`` yields the raw (decompressed)
        stream into a consumer argv (see :func:`feed`)."""

    # Set before restore() for a replica's build (PrepareRequest.replica): an
    # engine that can leaves the copy to start as a standby of its primary.
    as_replica = False

    def after_restore(self, req):  # noqa: B027 - optional hook
        """Run once the engine is up on restored data (credentials reset...)."""


class Pipeline:
    """``argv`` piped through a compressor; iterate for compressed chunks.

    The iterator raises after the last byte when any stage failed, so a
    store never publishes the stream of a failed backup.
    """

    def __init__(self, argv, compress_argv, stderr_path, env=None):
        self.stderr_path = stderr_path
        with open(stderr_path, 'ab') as err:
            self.producer = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err,
                                              stdin=subprocess.DEVNULL, env=env)
            widen(self.producer.stdout)
            self.compressor = subprocess.Popen(compress_argv, stdin=self.producer.stdout,
                                               stdout=subprocess.PIPE, stderr=err)
            widen(self.compressor.stdout)
        # Only the compressor may hold the read end, or the producer would
        # not see a closed pipe if the compressor died.
        self.producer.stdout.close()

    def __iter__(self):
        out = self.compressor.stdout
        while True:
            chunk = out.read(CHUNK)
            if not chunk:
                break
            yield chunk
        self.check()

    def check(self):
        codes = (self.compressor.wait(), self.producer.wait())
        if any(codes):
            raise exception.EngineError(detail='backup command failed (exit %s, %s): %s'
                                        % (codes[1], codes[0], process.tail(
                                            self.stderr_path, 8).strip()))

    def kill(self):
        for proc in (self.producer, self.compressor):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def feed(chunks, argv_chain, stderr_path, cwd=None):
    """Write ``chunks`` into the first of a chain of piped commands; raise
    EngineError unless every command exits 0."""
    procs = []
    with open(stderr_path, 'ab') as err:
        stdin = subprocess.PIPE
        for index, argv in enumerate(argv_chain):
            last = index == len(argv_chain) - 1
            proc = subprocess.Popen(argv, stdin=stdin, stderr=err, cwd=cwd,
                                    stdout=subprocess.DEVNULL if last else subprocess.PIPE)
            widen(proc.stdin)
            widen(proc.stdout)
            if procs:
                procs[-1].stdout.close()
            procs.append(proc)
            stdin = proc.stdout
    head = procs[0].stdin
    try:
        for chunk in chunks:
            head.write(chunk)
    except BrokenPipeError:
        pass  # the exit codes below tell what went wrong
    except BaseException:
        for proc in procs:
            proc.kill()
        raise
    finally:
        try:
            head.close()
        except BrokenPipeError:
            pass
    codes = [p.wait() for p in procs]
    if any(codes):
        raise exception.EngineError(detail='%s failed (exits %s): %s' % (
            ' | '.join(os.path.basename(a[0]) for a in argv_chain), codes,
            process.tail(stderr_path, 8).strip()))


def empty_dir(path):
    """Remove everything inside ``path`` (which stays)."""
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        else:
            os.unlink(full)
