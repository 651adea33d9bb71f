"""Per-instance locks.

Casts for one instance can arrive while an earlier one still runs (a delete
while the build is booting the server).  Flows of the same instance run one
after the other; a build waiting for its guest notices a delete through the
task state and returns, so a delete never waits long.

Inside one process a plain lock serialises the threads.  When the process
coordinates with other taskmanagers (trove.common.coordination) the
instance's lock in the coordination backend is held as well, so flows of one
instance never run in two taskmanagers at once; it expires with a process
that dies holding it.
"""
import contextlib
import threading

from trove.common import coordination

_GUARD = threading.Lock()
_LOCKS = {}  # instance_id -> [lock, users]


@contextlib.contextmanager
def _local_lock(instance_id):
    with _GUARD:
        entry = _LOCKS.setdefault(instance_id, [threading.Lock(), 0])
        entry[1] += 1
    try:
        with entry[0]:
            yield
    finally:
        with _GUARD:
            entry[1] -= 1
            if entry[1] == 0:
                del _LOCKS[instance_id]


@contextlib.contextmanager
def instance_lock(instance_id):
    """Hold the lock of ``instance_id`` for the duration of the block."""
    with _local_lock(instance_id):
        if not coordination.enabled():
            yield
            return
        with coordination.get_lock('trove-instance-%s' % instance_id):
            yield
