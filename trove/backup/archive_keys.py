"""Names and order of continuous-archive objects, shared by guest and control plane.

The guest's shipper stores each piece of a streamed segment as
``<prefix>/<segment key>/<offset, 16 hex>``; a restore from a base backup
reads the segments from the one the backup's metadata names on.  The
control plane's archive retention (trove.taskmanager.archive_retention)
prunes by the same rules, so they live here, where both may import them
(the guest already imports trove.backup for its stores).
"""
import datetime
import re

# PostgreSQL: 24 hex digits (timeline, log, segment) and timeline history files.
WAL_RE = re.compile(r'^[0-9A-F]{24}$')
HISTORY_RE = re.compile(r'^[0-9A-F]{8}\.history$')
# MariaDB (my.cnf: log-bin = mysql-bin); the .index and other engine files are not.
BINLOG_RE = re.compile(r'^mysql-bin\.(\d{6,})$')


def chunk_name(prefix, key, offset):
    return '%s/%s/%016x' % (prefix, key, offset)


def parse_chunk_name(prefix, name):
    """(segment key, offset) of a chunk object name, or None."""
    head = prefix.rstrip('/') + '/'
    if not name.startswith(head):
        return None
    key, _, offset = name[len(head):].rpartition('/')
    try:
        return (key, int(offset, 16)) if key and '/' not in key and len(offset) == 16 else None
    except ValueError:
        return None


def list_chunks(store, container, prefix):
    """{segment key: [(offset, location)] sorted by offset} of an archive."""
    chunks = {}
    for name, location in store.list_objects(container, prefix.strip('/') + '/'):
        parsed = parse_chunk_name(prefix.strip('/'), name)
        if parsed:
            chunks.setdefault(parsed[0], []).append((parsed[1], location))
    return {key: sorted(found) for key, found in chunks.items()}


# A position sample of the log (shipper.py): ``<prefix>/<segment key>/at/<offset,
# 16 hex>-<UTC time, %Y%m%dT%H%M%S.%fZ>``, beside the chunks of its segment.
POSITION_DIR = 'at'
_POSITION_TIME = '%Y%m%dT%H%M%S.%fZ'


def position_name(prefix, key, offset, when):
    """The object name of a sample: the log had reached ``offset`` of segment
    ``key`` at ``when`` (aware UTC)."""
    return '%s/%s/%s/%016x-%s' % (prefix, key, POSITION_DIR, offset,
                                   when.astimezone(datetime.UTC).strftime(_POSITION_TIME))


def parse_position_name(prefix, name):
    """(segment key, offset, aware UTC time) of a sample's object name, or None."""
    head = prefix.rstrip('/') + '/'
    parts = name[len(head):].split('/') if name.startswith(head) else []
    if len(parts) != 3 or parts[1] != POSITION_DIR:
        return None
    offset, _, stamp = parts[2].partition('-')
    try:
        when = datetime.datetime.strptime(stamp, _POSITION_TIME).replace(tzinfo=datetime.UTC)
        return (parts[0], int(offset, 16), when) if len(offset) == 16 else None
    except ValueError:
        return None


def list_positions(store, container, prefix):
    """[(time, segment key, offset, location)] of an archive's samples, by time."""
    found = []
    for name, location in store.list_objects(container, prefix.strip('/') + '/'):
        parsed = parse_position_name(prefix.strip('/'), name)
        if parsed:
            found.append((parsed[2], parsed[0], parsed[1], location))
    return sorted(found)


def list_segment_objects(store, container, prefix):
    """{segment key: [(offset, location)]} of every object of an archive,
    chunks and samples, for its pruning: a segment goes with its samples."""
    found = list_chunks(store, container, prefix)
    for _when, key, offset, location in list_positions(store, container, prefix):
        found.setdefault(key, []).append((offset, location))
    return found


def wal_order(key):
    """Log order of a WAL key: a timeline's history file before its segments."""
    return key[:8], '' if key.endswith('.history') else key[8:]


def binlog_number(name):
    """The sequence number of binary log ``name`` (ValueError if not one)."""
    match = BINLOG_RE.match(name)
    if not match:
        raise ValueError('%r is not a binary log name' % name)
    return int(match.group(1))


def wal_first_segment(backup_meta):
    """The first WAL segment a restore from this backup replays, or None
    (only a base backup is a starting point)."""
    meta = backup_meta or {}
    return meta.get('start_wal') if meta.get('pg_backup') == 'base' else None


def binlog_first_segment(backup_meta):
    """The binary log a replay after this backup (full or incremental)
    starts in, or None when it recorded no position."""
    return (backup_meta or {}).get('binlog_file') or None


# datastore manager -> (order of a segment key, first segment of a backup)
_RULES = {
    'postgresql': (wal_order, wal_first_segment),
    'mariadb': (binlog_number, binlog_first_segment),
    'mysql': (binlog_number, binlog_first_segment),
}


def rules(manager):
    """(order, first_segment) of datastore ``manager``; KeyError without an archive."""
    return _RULES[manager]
