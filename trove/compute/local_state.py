"""On-disk state of the local compute driver.

Everything the local driver knows lives below ``CONF.local.base_dir``::

    lock                       fcntl lock serialising address allocation
    flavors.json               optional flavor catalogue replacing the built-in one
    servers/<id>/state.json    one server (see :class:`ServerState`)
    servers/<id>/root/...      files injected into the server
    volumes/<id>/volume.json   one volume (the directory is the "mounted" disk)

Keeping it on disk (and nothing in memory) is what lets a restarted
taskmanager find its servers again.
"""
import calendar
import contextlib
import dataclasses
import datetime
import fcntl
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field

from trove.common import exception
from trove.compute import base

# Server and volume ids become directory names, so only ids that cannot
# climb out of base_dir are ever looked up.
_ID_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')


@dataclass
class ServerState:
    """Contents of ``state.json``; ``pid``/``sid``/``start_time`` name the boot."""

    name: str
    flavor_id: str
    image_id: str | None
    volume_id: str | None
    metadata: dict = field(default_factory=dict)
    address: str = ''
    status: str = base.BUILD
    created: str = ''
    pid: int | None = None
    sid: int | None = None
    # Start time of the session leader in clock ticks since boot
    # (/proc/<pid>/stat field 22): tells our agent from a reused pid.
    start_time: int | None = None

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def valid_id(ident):
    """True when ``ident`` is safe to use as a directory name."""
    return isinstance(ident, str) and bool(_ID_RE.match(ident)) and '..' not in ident


def now_iso():
    """Current UTC time in the ISO 8601 form nova uses for ``created``."""
    return datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def age_seconds(created):
    """Seconds since an ISO 8601 ``created`` stamp; 0 when unparsable."""
    try:
        then = calendar.timegm(time.strptime(created, '%Y-%m-%dT%H:%M:%SZ'))
    except (TypeError, ValueError):
        return 0
    return time.time() - then


def write_json_atomic(path, data):
    """Write ``data`` as JSON so readers see the old or the new file, never half."""
    dirname = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=dirname, prefix='.tmp-', suffix='.json')
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_json(path):
    """Load a JSON file; None when it is missing or unreadable (half-created)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def locked(base_dir, name='lock'):
    """Hold the driver-wide lock ``name``; serialises work across processes.

    ``lock`` guards address allocation and claims; the spare pool keeps its
    own (``spares.lock``) because refilling creates servers, which takes
    ``lock``.
    """
    os.makedirs(base_dir, exist_ok=True)
    with open(os.path.join(base_dir, name), 'a+') as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def candidate_addresses(prefix):
    """Every usable address under ``prefix`` ('a.b'), in allocation order.

    Hosts .0 and .255 are skipped in every /24 (network and broadcast look-
    alikes confuse some engines' host checks); prefix.0.1 is left to the host
    itself, as a gateway would be.
    """
    for x in range(256):
        for y in range(1, 255):
            if x == 0 and y == 1:
                continue
            yield '%s.%d.%d' % (prefix, x, y)


def used_addresses(servers_dir):
    """Addresses recorded in the state.json of every existing server."""
    used = set()
    if not os.path.isdir(servers_dir):
        return used
    for name in os.listdir(servers_dir):
        data = read_json(os.path.join(servers_dir, name, 'state.json'))
        if data and data.get('address'):
            used.add(data['address'])
    return used


def allocate_address(prefix, used):
    """First candidate address not in ``used``; ComputeError when exhausted."""
    for addr in candidate_addresses(prefix):
        if addr not in used:
            return addr
    raise exception.ComputeError(detail='no free address under %s' % prefix)


def resolve_in_root(root, path):
    """Host path of the in-server absolute ``path`` below ``root``.

    Raises InvalidValue for relative paths and paths that would escape the
    server's root (``..``), because injected content must never land outside.
    """
    if not isinstance(path, str) or not path.startswith('/'):
        raise exception.InvalidValue(detail='injected file path %r is not absolute' % path)
    root = os.path.abspath(root)
    target = os.path.normpath(os.path.join(root, path.lstrip('/')))
    if '..' in path.split('/') or not target.startswith(root + os.sep):
        raise exception.InvalidValue(detail='injected file path %r escapes the root' % path)
    return target


def load_flavors(base_dir):
    """The flavor catalogue: ``base_dir/flavors.json`` if present, else built-in.

    flavors.json holds a list of flavor dicts (or ``{"flavors": [...]}``);
    a broken file is an operator error worth surfacing, not hiding.
    """
    path = os.path.join(base_dir, 'flavors.json')
    if not os.path.exists(path):
        return base.builtin_flavors()
    try:
        with open(path) as f:
            data = json.load(f)
        if isinstance(data, dict):
            data = data.get('flavors', [])
        return [base.Flavor.from_dict(item) for item in data]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise exception.ComputeError(detail='bad flavor file %s: %s' % (path, exc))
