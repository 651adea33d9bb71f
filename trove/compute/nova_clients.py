"""Clients, error translation and polling shared by the ``nova`` driver.

One keystoneauth1 session, built from ``[service_credentials]``, serves
both novaclient and cinderclient: it fetches the token, finds the endpoints
in the catalog and re-authenticates when the token expires.
"""
import contextlib
import time

from cinderclient import client as cinder_client
from cinderclient import exceptions as cinder_exc
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc
from oslo_log import log as logging

from trove.common import exception
from trove.conf import CONF

LOG = logging.getLogger(__name__)

NOT_FOUND = (nova_exc.NotFound, cinder_exc.NotFound)


def make_session(conf=None):
    """A keystoneauth1 session authenticated as the trove service user."""
    sc = (conf or CONF).service_credentials
    auth = v3.Password(auth_url=sc.auth_url, username=sc.username, password=sc.password,
                       project_name=sc.project_name, user_domain_name=sc.user_domain_name,
                       project_domain_name=sc.project_domain_name)
    verify = False if sc.insecure else (sc.cafile or True)
    return ks_session.Session(auth=auth, verify=verify)


def make_nova(session):
    """A novaclient pinned to ``CONF.nova_client_version``."""
    sc = CONF.service_credentials
    return nova_client.Client(CONF.nova_client_version, session=session,
                              region_name=sc.region_name, endpoint_type=sc.interface)


def make_cinder(session):
    """A cinderclient (v3) pinned to ``CONF.cinder_client_version``."""
    sc = CONF.service_credentials
    return cinder_client.Client(CONF.cinder_client_version, session=session,
                                region_name=sc.region_name, interface=sc.interface)


def describe(exc):
    """A one-line, user-readable account of a client or keystone error."""
    if isinstance(exc, (nova_exc.ClientException, cinder_exc.ClientException)):
        code = getattr(exc, 'code', None)
        message = getattr(exc, 'message', None) or exc.__class__.__name__
        return '%s (HTTP %s)' % (message, code) if code else str(message)
    if isinstance(exc, ks_exc.ClientException):
        return _service_fault(exc) or 'identity service: %s' % (
            str(exc) or exc.__class__.__name__)
    return str(exc) or exc.__class__.__name__


def _service_fault(exc):
    """The message of a ``{"NeutronError": {...}}`` body behind a keystoneauth error.

    Services reached through a plain keystoneauth Adapter (Neutron) answer
    with fault bodies keystoneauth does not read.
    """
    response = getattr(exc, 'response', None)
    try:
        body = response.json() if response is not None else None
    except ValueError:
        body = None
    error = body.get('NeutronError') if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get('message'):
        return '%s (HTTP %s)' % (error['message'], getattr(exc, 'http_status', '?'))
    return None


@contextlib.contextmanager
def translate(what, not_found=None):
    """Turn client errors raised inside the block into trove exceptions.

    A 404 raises ``not_found`` (an exception instance) when one is given;
    everything else becomes ComputeError naming ``what`` was attempted.
    Trove's own exceptions pass through untouched.
    """
    try:
        yield
    except exception.TroveError:
        raise
    except NOT_FOUND as exc:
        if not_found is not None:
            raise not_found from exc
        raise exception.ComputeError(detail='%s: %s' % (what, describe(exc))) from exc
    except (nova_exc.ClientException, cinder_exc.ClientException,
            ks_exc.ClientException) as exc:
        LOG.warning('%s failed: %s', what, describe(exc))
        raise exception.ComputeError(detail='%s: %s' % (what, describe(exc))) from exc


def wait_for(fetch, done, timeout, what, failed=None, sleep=time.sleep):
    """Call ``fetch()`` until ``done(result)``; returns that result.

    ``failed(result)`` returning a message ends the wait with ComputeError at
    once (a volume in ``error`` never becomes available).  Running past
    ``timeout`` seconds raises ComputeError too.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if done(result):
            return result
        message = failed(result) if failed else None
        if message:
            raise exception.ComputeError(detail='%s: %s' % (what, message))
        if time.monotonic() >= deadline:
            raise exception.ComputeError(
                detail='%s: not done within %d seconds' % (what, timeout))
        sleep(CONF.state_change_poll_time)

