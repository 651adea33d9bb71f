"""Per-instance locks inside one service process.

Casts for one instance can arrive while an earlier one still runs (a delete
while the build is booting the server).  Flows of the same instance run one
after the other; a build waiting for its guest notices a delete through the
task state and returns, so a delete never waits long.
"""
import contextlib
import threading

_GUARD = threading.Lock()
_LOCKS = {}  # instance_id -> [lock, users]


@contextlib.contextmanager
def instance_lock(instance_id):
    """Hold the lock of ``instance_id`` for the duration of the block."""
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
