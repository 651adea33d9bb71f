"""The shared rule for validating names that reach an engine.

Names end up quoted or bound, but a strict allow-list is still the first
line of defence against injection; each engine supplies its patterns and
length limits.
"""
import re

from trove.common import exception

# Letters, digits and _ - . : portable across engines and filesystems.
NAME_RE = re.compile(r'^[A-Za-z0-9_.-]+$')


def check(kind, value, pattern=NAME_RE, max_len=64):
    """Return ``value`` if it is a non-empty string of at most ``max_len``
    characters matching ``pattern``; raise BadRequest otherwise."""
    if not isinstance(value, str) or not value:
        raise exception.BadRequest(detail='%s must be a non-empty string' % kind)
    if len(value) > max_len:
        raise exception.BadRequest(detail='%s is longer than %d characters' % (kind, max_len))
    if not pattern.match(value):
        raise exception.BadRequest(
            detail='%s %r may only contain letters, digits and _ - .' % (kind, value))
    return value
