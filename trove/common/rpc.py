"""oslo.messaging plumbing: transport, serializer, clients and servers.

Every daemon uses the threading executor; nothing here depends on eventlet.
"""
import oslo_messaging as messaging
from oslo_messaging._drivers import amqp as amqp_opts
from oslo_messaging.rpc import dispatcher

from trove.common import context as trove_context
from trove.conf import CONF

ALLOWED_EXMODS = ['trove.common.exception']
_TRANSPORT = None
_NOTIFICATION_TRANSPORT = None


def set_defaults():
    """Durable queues and exchanges unless trove.conf says otherwise.

    A prepare cast waits in the guest's queue until the agent boots, and a
    create cast in the taskmanager's queue until one consumes it; with
    oslo.messaging's default (transient queues) a RabbitMQ restart in that
    window drops both and the build waits for a guest that never hears of
    it.  Durable queues keep them (oslo.messaging publishes persistent
    messages), so casts survive a broker restart.  Every daemon and guest
    calls this, so both ends of a queue declare it alike.
    """
    group = 'oslo_messaging_rabbit'
    CONF.register_opts(amqp_opts.amqp_opts, group=group)
    CONF.set_default('amqp_durable_queues', True, group=group)


def get_transport():
    """Return the process-wide RPC transport built from transport_url."""
    global _TRANSPORT
    if _TRANSPORT is None:
        set_defaults()
        _TRANSPORT = messaging.get_rpc_transport(CONF, allowed_remote_exmods=ALLOWED_EXMODS)
    return _TRANSPORT


def cleanup():
    """Close the transport (daemons call this on shutdown, tests between runs)."""
    global _TRANSPORT
    if _TRANSPORT is not None:
        _TRANSPORT.cleanup()
        _TRANSPORT = None


class ContextSerializer(messaging.Serializer):
    """Turns TroveContext into a dict on the wire and back."""

    def __init__(self, base=None):
        self._base = base or messaging.NoOpSerializer()

    def serialize_entity(self, ctxt, entity):
        return self._base.serialize_entity(ctxt, entity)

    def deserialize_entity(self, ctxt, entity):
        return self._base.deserialize_entity(ctxt, entity)

    # The context dict goes through the base serializer too, so that
    # rpc_crypto can seal it: every message then carries a sealed part, even
    # a call without arguments.
    def serialize_context(self, ctxt):
        return self._base.serialize_context(ctxt.to_dict())

    def deserialize_context(self, ctxt):
        return trove_context.TroveContext.from_dict(self._base.deserialize_context(ctxt))


def get_client(topic, version, server=None, serializer=None, timeout=None):
    """An RPCClient for ``topic``; ``serializer`` wraps the context serializer."""
    target = messaging.Target(topic=topic, version=version, server=server)
    return messaging.get_rpc_client(
        get_transport(), target, version_cap=version,
        serializer=ContextSerializer(serializer), timeout=timeout)


def get_server(topic, server, endpoints, serializer=None):
    """A threading RPC server for ``topic`` on host ``server``."""
    target = messaging.Target(topic=topic, server=server)
    return messaging.get_rpc_server(
        get_transport(), target, endpoints, executor='threading',
        serializer=ContextSerializer(serializer),
        access_policy=dispatcher.DefaultRPCAccessPolicy)


def create_queue(topic, server):
    """Declare the queues of ``topic`` so casts sent before the consumer runs wait there.

    Starting and stopping a server binds the queues in RabbitMQ; the queues
    outlive the server because oslo.messaging declares them non-auto-delete.
    """
    srv = get_server(topic, server, [])
    srv.start()
    srv.stop()
    srv.wait()


def delete_queues(names):
    """Delete broker queues that no consumer will ever read again (best effort)."""
    import kombu
    url = CONF.transport_url or 'rabbit://guest:guest@localhost:5672/'
    url = url.replace('rabbit://', 'amqp://', 1)
    with kombu.Connection(url, connect_timeout=5) as conn:
        channel = conn.channel()
        for name in names:
            try:
                channel.queue_delete(name)
            except Exception:
                # A missing queue closes the channel in AMQP; open a new one.
                channel = conn.channel()
