"""Writer addresses of the ``nova`` driver: a Neutron floating IP per
highly available replica set, associated with the primary's port.

The floating IP is allocated from ``[DEFAULT] writer_floating_network`` the
first time a set needs one, found again by its description
(``trove-writer-<set id>``), and re-associated with the port of the new
primary's server on a failover: Neutron's router moves the NAT at once and
the guests need no change.  Without the option the driver has no writer
addresses (None), and clients use the members' own addresses.
"""
from oslo_log import log as logging

from trove.common import exception
from trove.compute import nova_clients as clients
from trove.conf import CONF

LOG = logging.getLogger(__name__)
FLOATING_IPS = '/v2.0/floatingips'
PORTS = '/v2.0/ports'


def description(set_id):
    return 'trove-writer-%s' % set_id


class FloatingWriters:
    """Floating IPs over a keystoneauth Adapter of the network service."""

    def __init__(self, neutron):
        self.neutron = neutron

    def _find(self, set_id):
        with clients.translate('list floating IPs of set %s' % set_id):
            return self.neutron.get(FLOATING_IPS, params={
                'description': description(set_id)}).json()['floatingips']

    def _port_of(self, server_id):
        with clients.translate('list ports of server %s' % server_id):
            ports = self.neutron.get(PORTS, params={'device_id': server_id}).json()['ports']
        if not ports:
            raise exception.ComputeError(detail='server %s has no port' % server_id)
        return sorted(ports, key=lambda p: p['id'])[0]['id']

    def point(self, set_id, server_id):
        """The set's floating IP on ``server_id``'s port; returns its address."""
        if not CONF.writer_floating_network:
            return None
        found = self._find(set_id)
        port_id = self._port_of(server_id)
        if found:
            fip = found[0]
            if fip.get('port_id') != port_id:
                with clients.translate('move floating IP %s' % fip['floating_ip_address']):
                    self.neutron.put('%s/%s' % (FLOATING_IPS, fip['id']),
                                     json={'floatingip': {'port_id': port_id}})
        else:
            with clients.translate('create a floating IP for set %s' % set_id):
                fip = self.neutron.post(FLOATING_IPS, json={'floatingip': {
                    'floating_network_id': CONF.writer_floating_network,
                    'description': description(set_id),
                    'port_id': port_id}}).json()['floatingip']
        LOG.info('Writer address %s of set %s on port %s', fip['floating_ip_address'],
                 set_id, port_id)
        return fip['floating_ip_address']

    def release(self, set_id):
        for fip in self._find(set_id):
            try:
                with clients.translate('delete floating IP %s' % fip['floating_ip_address'],
                                       not_found=LookupError()):
                    self.neutron.delete('%s/%s' % (FLOATING_IPS, fip['id']))
            except LookupError:
                continue
            LOG.info('Released writer address %s of set %s', fip['floating_ip_address'],
                     set_id)
