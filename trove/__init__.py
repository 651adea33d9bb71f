"""trove: a DBaaS control plane compatible with OpenStack Trove's v1.0 API."""
import sys
import warnings

# Every trove daemon runs on threads and never uses eventlet, but futurist
# and oslo.utils import it whenever it is installed (oslo.service depends
# on it): 0.3-0.5 s of each daemon's start-up, on the build's critical path
# for the guest agent.  A None entry makes ``import eventlet`` fail, which
# those libraries take for "not installed".  A program that embeds trove and
# does use eventlet imports it first, and this leaves it alone.
if 'eventlet' not in sys.modules:
    sys.modules['eventlet'] = None

# Should eventlet be imported anyway, it warns at import.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

from oslo_service import backend as _backend  # noqa: E402

# oslo.messaging pulls in oslo.service, whose default backend is eventlet.
# Pick the threading backend before anything imports oslo.messaging.
try:
    _backend.init_backend(_backend.BackendType.THREADING)
except Exception:  # already initialised by an embedding program
    pass
