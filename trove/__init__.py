"""trove: a DBaaS control plane compatible with OpenStack Trove's v1.0 API."""
import warnings

# futurist imports eventlet whenever it is installed (a dependency of
# oslo.service) and eventlet then warns at import; trove never uses it.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

from oslo_service import backend as _backend  # noqa: E402

# oslo.messaging pulls in oslo.service, whose default backend is eventlet.
# Every trove daemon runs on threads, so pick the threading backend before
# anything imports oslo.messaging.
try:
    _backend.init_backend(_backend.BackendType.THREADING)
except Exception:  # already initialised by an embedding program
    pass
