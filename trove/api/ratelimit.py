"""Per-project API rate limiting (paste filter ``ratelimit``).

Each project has one leaky bucket per configured limit; a bucket of
``value`` requests per ``unit`` drains continuously, so a project that
paused regains capacity gradually rather than at a window edge.  The state
is in memory and per API process, as upstream's limiter is.  A request
over a limit gets 413 ``overLimit`` with ``retryAfter`` and a
``Retry-After`` header; nothing behind the filter runs.

The filter also leaves the caller's current limits in
``environ['trove.limits']`` for ``GET /limits``.
"""
import dataclasses
import datetime
import math
import re
import threading
import time

import webob.dec

from trove.api import middleware, wsgi
from trove.conf import CONF

LIMITS_KEY = 'trove.limits'
_UNITS = {'SECOND': 1, 'MINUTE': 60, 'HOUR': 3600, 'DAY': 86400}


@dataclasses.dataclass(frozen=True)
class Limit:
    """``value`` requests of ``verb`` on paths matching ``regex`` per ``unit``."""

    verb: str
    uri: str
    regex: str
    value: int
    unit: str = 'MINUTE'

    @property
    def rate(self):
        return self.value / _UNITS[self.unit]

    def applies(self, verb, path):
        verbs = ('PUT', 'PATCH') if self.verb == 'PUT' else (self.verb,)
        return verb in verbs and re.match(self.regex, path) is not None


def configured_limits():
    """The limits of ``CONF.http_*_rate``, in the order GET /limits shows them."""
    return [Limit('POST', '*', '.*', CONF.http_post_rate),
            Limit('PUT', '*', '.*', CONF.http_put_rate),
            Limit('DELETE', '*', '.*', CONF.http_delete_rate),
            Limit('GET', '*', '.*', CONF.http_get_rate),
            Limit('POST', '*/mgmt', '^/mgmt', CONF.http_mgmt_post_rate)]


def _iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


class Limiter:
    """Leaky buckets keyed by (project, limit); thread safe."""

    def __init__(self, limits, clock=time.monotonic, wall=time.time):
        self.limits = list(limits)
        self.clock, self.wall = clock, wall
        self._levels = {}
        self._lock = threading.Lock()

    def _level(self, key, limit, now):
        level, last = self._levels.get(key, (0.0, now))
        return max(0.0, level - (now - last) * limit.rate)

    def check(self, project, verb, path):
        """Count one request; returns seconds to wait when it is over a limit, else None."""
        with self._lock:
            now = self.clock()
            matching = [lim for lim in self.limits if lim.applies(verb, path)]
            waits = []
            for lim in matching:
                level = self._level((project, lim), lim, now)
                if level + 1 > lim.value:
                    waits.append((level + 1 - lim.value) / lim.rate)
            if waits:
                return max(waits)
            for lim in matching:
                key = (project, lim)
                self._levels[key] = (self._level(key, lim, now) + 1, now)
            self._prune(now)
            return None

    def _prune(self, now):
        # Drained buckets hold nothing worth keeping; bounds memory per tenant.
        if len(self._levels) > 10000:
            for key in [k for k in self._levels
                        if self._level(k, k[1], now) == 0.0]:
                del self._levels[key]

    def view(self, project):
        """The rate entries of ``GET /limits`` for ``project``."""
        with self._lock:
            now, wall = self.clock(), self.wall()
            result = []
            for lim in self.limits:
                level = self._level((project, lim), lim, now)
                remaining = max(0, int(math.floor(lim.value - level)))
                wait = 0.0 if remaining else (level + 1 - lim.value) / lim.rate
                result.append({'verb': lim.verb, 'uri': lim.uri, 'regex': lim.regex,
                               'value': lim.value, 'remaining': remaining,
                               'unit': lim.unit, 'nextAvailable': _iso(wall + wait)})
            return result


def _relative_path(path_info):
    """``/{tenant}/mgmt/x`` -> ``/mgmt/x``: limits are written per resource."""
    parts = path_info.lstrip('/').split('/', 1)
    return '/' + (parts[1] if len(parts) > 1 else '')


class RateLimitMiddleware(middleware._Middleware):
    """The ``ratelimit`` filter; sits after the context filter."""

    def __init__(self, application, limiter=None, **local_conf):
        super().__init__(application, **local_conf)
        self.limiter = limiter or Limiter(configured_limits())

    @webob.dec.wsgify
    def __call__(self, req):
        context = req.environ.get(middleware.CONTEXT_KEY)
        project = getattr(context, 'project_id', None)
        if project is None:
            return req.get_response(self.application)
        wait = self.limiter.check(project, req.method, _relative_path(req.path_info))
        if wait is not None:
            return over_limit_response(wait)
        req.environ[LIMITS_KEY] = lambda: self.limiter.view(project)
        return req.get_response(self.application)


def over_limit_response(wait):
    """413 ``overLimit`` with ``retryAfter`` (seconds, rounded up) and Retry-After."""
    seconds = str(max(1, int(math.ceil(wait))))
    body = {'overLimit': {
        'code': 413,
        'message': 'This request was rate-limited.',
        'details': 'The project made more requests than its rate limits '
                   'allow (see GET /limits); retry after %s seconds.' % seconds,
        'retryAfter': seconds}}
    return wsgi.json_response(body, status=413, headers={'Retry-After': seconds})
