"""The RPC wrapper of guest engine operations (shared by every endpoint mixin)."""
import functools

import oslo_messaging as messaging
from oslo_log import log as logging

from trove.common import exception

LOG = logging.getLogger(__name__)


# MySQL-family "syntax error": its message quotes the statement, which may
# hold a password, so only the code goes back.
_REDACTED_CODES = (1064,)


def engine_op(func):
    """RPC endpoint wrapper for engine operations.

    Trove errors (UserNotFound, BadRequest, ...) pass through unchanged so
    oslo.messaging re-raises them by class in the API.  Anything else (a
    driver error) becomes an EngineError (500) with a short message instead of
    a RemoteError the API cannot map.  Both are "expected", so the RPC server
    does not log a traceback for a user's typo; real failures are logged here.
    """
    @functools.wraps(func)
    def wrapper(self, context, **kwargs):
        try:
            return func(self, context, **kwargs)
        except exception.TroveError:
            raise
        except Exception as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            if code in _REDACTED_CODES:
                LOG.error('%s failed with engine error %s', func.__name__, code)
            else:
                LOG.exception('%s failed', func.__name__)
            text = ('error %s' % code if code in _REDACTED_CODES
                    else str(exc)[:300] or type(exc).__name__)
            raise exception.EngineError(detail='%s failed: %s' % (func.__name__, text))
    return messaging.expected_exceptions(exception.TroveError)(wrapper)
