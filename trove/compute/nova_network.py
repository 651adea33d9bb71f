"""Per-instance Neutron security groups of the ``nova`` driver.

An instance's ``access`` setting becomes a security group named
``trove_sg-<instance id>`` holding one TCP ingress rule per (port, CIDR)
pair, as upstream Trove names it.  The group lives in the service project
next to the server.  Neutron is reached with plain REST v2.0 calls through a
keystoneauth Adapter on the driver's session, so the token, the catalog
lookup and re-authentication are shared with Nova and Cinder and no further
client library is needed.
"""
import ipaddress

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from oslo_log import log as logging

from trove.common import exception
from trove.compute import nova_clients as clients
from trove.conf import CONF

LOG = logging.getLogger(__name__)

GROUP_PREFIX = 'trove_sg'
GROUPS = '/v2.0/security-groups'
RULES = '/v2.0/security-group-rules'
# Neutron reports the protocol as given: a name or its IANA number.
_TCP = ('tcp', '6')


def group_name(instance_id):
    """The name of the instance's security group."""
    return '%s-%s' % (GROUP_PREFIX, instance_id)


def make_neutron(session):
    """A keystoneauth Adapter for the catalog's network endpoint."""
    sc = CONF.service_credentials
    return ks_adapter.Adapter(session, service_type='network', interface=sc.interface,
                              region_name=sc.region_name)


def wanted_rules(ports, cidrs):
    """The ``{(port, cidr)}`` set to allow, CIDRs normalised as Neutron keeps them."""
    try:
        networks = [str(ipaddress.ip_network(c, strict=False)) for c in cidrs]
    except ValueError as exc:
        raise exception.ComputeError(detail='invalid CIDR: %s' % exc) from exc
    return {(int(port), net) for port in ports for net in networks}


def _rule_key(rule):
    """``(port, cidr)`` of a single-port rule from an address range, else None."""
    low, high = rule.get('port_range_min'), rule.get('port_range_max')
    prefix = rule.get('remote_ip_prefix')
    if low is None or low != high or not prefix or rule.get('remote_group_id'):
        return None
    return int(low), str(ipaddress.ip_network(prefix, strict=False))


class SecurityGroups:
    """Security groups over a keystoneauth Adapter of the network service."""

    def __init__(self, neutron):
        self.neutron = neutron

    def find(self, name):
        """The groups called ``name`` (normally one or none), rules included."""
        with clients.translate('list security groups %s' % name):
            return self.neutron.get(GROUPS, params={'name': name}).json()['security_groups']

    def ensure(self, name, wanted):
        """Make group ``name`` allow exactly ``wanted`` TCP ingress; returns the group.

        Idempotent: the group is reused when it exists, rules missing from
        it are added and other TCP ingress rules deleted.  Egress rules (the
        defaults Neutron gives every group) are left alone.
        """
        groups = self.find(name)
        group = groups[0] if groups else self._create(name)
        self._sync_rules(group, wanted)
        return group

    def delete(self, name):
        """Delete every group called ``name``; one already gone is success."""
        for group in self.find(name):
            with clients.translate('delete security group %s' % name):
                try:
                    self.neutron.delete('%s/%s' % (GROUPS, group['id']))
                except ks_exc.NotFound:
                    continue
            LOG.info('Deleted security group %s (%s)', name, group['id'])

    def _create(self, name):
        body = {'security_group': {'name': name,
                                   'description': 'Trove database access rules'}}
        with clients.translate('create security group %s' % name):
            group = self.neutron.post(GROUPS, json=body).json()['security_group']
        LOG.info('Created security group %s (%s)', name, group['id'])
        return group

    def _sync_rules(self, group, wanted):
        kept, stale = set(), []
        for rule in group.get('security_group_rules') or ():
            if (rule.get('direction') != 'ingress'
                    or str(rule.get('protocol')).lower() not in _TCP):
                continue
            key = _rule_key(rule)
            if key in wanted and key not in kept:
                kept.add(key)
            else:
                stale.append(rule['id'])
        # New rules go in before old ones go, so a change of CIDRs never
        # leaves a moment in which nobody can connect.
        for port, cidr in sorted(wanted - kept):
            self._add_rule(group, port, cidr)
        for rule_id in stale:
            what = 'delete rule %s of security group %s' % (rule_id, group['name'])
            with clients.translate(what):
                try:
                    self.neutron.delete('%s/%s' % (RULES, rule_id))
                except ks_exc.NotFound:
                    pass  # removed by someone else meanwhile

    def _add_rule(self, group, port, cidr):
        rule = {'security_group_id': group['id'], 'direction': 'ingress',
                'ethertype': 'IPv%d' % ipaddress.ip_network(cidr).version,
                'protocol': 'tcp', 'port_range_min': port, 'port_range_max': port,
                'remote_ip_prefix': cidr}
        with clients.translate('add rule tcp/%d from %s to security group %s'
                       % (port, cidr, group['name'])):
            try:
                self.neutron.post(RULES, json={'security_group_rule': rule})
            except ks_exc.Conflict:
                pass  # an equal rule exists already (a concurrent apply)
