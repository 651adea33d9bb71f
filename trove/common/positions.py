"""Replication positions of each engine and their order.

Shared by the guest (engines/*/replication.py: ``compare``, ``wait_for``)
and the taskmanager (electing the most advanced replica), which must not
import guest engine code.  A position is plain JSON:
``{'gtid': '0-1-42'}`` (MariaDB), ``{'lsn': '0/3000060'}`` (PostgreSQL),
``{'offset': 1234, 'replid': '...'}`` (Redis).
"""
import re

from trove.common import exception

_LSN_RE = re.compile(r'^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$')


def parse_gtid(text):
    """``{domain: seq_no}`` of a GTID list such as ``0-1-42,1-2-7``."""
    result = {}
    for item in (text or '').replace('\n', '').split(','):
        item = item.strip()
        if not item:
            continue
        parts = item.split('-')
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise exception.BadRequest(detail='invalid GTID %r' % item)
        domain, seq = int(parts[0]), int(parts[2])
        result[domain] = max(seq, result.get(domain, 0))
    return result


def compare_gtid(a, b):
    """-1, 0 or 1 for GTID lists ``a`` and ``b``.

    ``a`` is ahead when it is at least as far in every domain; positions
    that are ahead in different domains (never the case with the single
    domain Trove uses) are ordered by their total of sequence numbers.
    """
    da, db = parse_gtid(a), parse_gtid(b)
    diffs = [da.get(d, 0) - db.get(d, 0) for d in set(da) | set(db)]
    if all(x == 0 for x in diffs):
        return 0
    if all(x >= 0 for x in diffs):
        return 1
    if all(x <= 0 for x in diffs):
        return -1
    total = sum(diffs)
    return (total > 0) - (total < 0)


def gtid_of(position):
    """The GTID list of a MariaDB position (validated)."""
    if not isinstance(position, dict) or not isinstance(position.get('gtid'), str):
        raise exception.BadRequest(detail='a MariaDB position is {"gtid": "..."}')
    parse_gtid(position['gtid'])
    return position['gtid']


def lsn_value(lsn):
    """``'X/Y'`` as the 64-bit number it names."""
    if not isinstance(lsn, str) or not _LSN_RE.match(lsn):
        raise exception.BadRequest(detail='invalid LSN %r' % (lsn,))
    high, low = lsn.split('/')
    return (int(high, 16) << 32) + int(low, 16)


def lsn_of(position):
    """The LSN of a PostgreSQL position as a number (validated)."""
    if not isinstance(position, dict):
        raise exception.BadRequest(detail='a PostgreSQL position is {"lsn": "X/Y"}')
    return lsn_value(position.get('lsn'))


def offset_of(position):
    """The replication offset of a Redis position (validated)."""
    if not isinstance(position, dict) or not isinstance(position.get('offset'), int):
        raise exception.BadRequest(detail='a Redis position is {"offset": N, "replid": ...}')
    return position['offset']


def _order(x, y):
    return (x > y) - (x < y)


def compare_mariadb(a, b):
    return compare_gtid(gtid_of(a), gtid_of(b))


def compare_postgresql(a, b):
    return _order(lsn_of(a), lsn_of(b))


def compare_redis(a, b):
    return _order(offset_of(a), offset_of(b))


_BY_MANAGER = {'mariadb': compare_mariadb, 'mysql': compare_mariadb,
               'postgresql': compare_postgresql, 'redis': compare_redis}


def comparator(manager):
    """``compare(a, b)`` -> -1/0/1 for positions of datastore ``manager``."""
    try:
        return _BY_MANAGER[manager]
    except KeyError:
        raise exception.BadRequest(detail='datastore %s has no replication' % manager)
