"""An HTTP-level fake of Neutron's security groups (REST v2.0) for requests-mock.

Bodies follow the real API: ``{"security_group": {...}}`` and
``{"security_group_rule": {...}}`` envelopes, list envelopes, 201 on
create, 204 on delete, faults as ``{"NeutronError": {...}}``.  New groups
get Neutron's two default egress rules.  ``faults`` maps an operation
(``list_groups``, ``create_group``, ``delete_group``, ``create_rule``,
``delete_rule``) to the ``(status, body)`` it answers instead.
"""
import re
import uuid

NEUTRON_URL = 'http://neutron.test'
GROUPS = NEUTRON_URL + '/v2.0/security-groups'
RULES = NEUTRON_URL + '/v2.0/security-group-rules'
PORTS = NEUTRON_URL + '/v2.0/ports'
FLOATING_IPS = NEUTRON_URL + '/v2.0/floatingips'
SERVER_ERROR = (500, {'NeutronError': {
    'type': 'HTTPInternalServerError', 'detail': '',
    'message': 'Request Failed: internal server error while processing your request.'}})


def neutron_error(context, code, kind, message):
    context.status_code = code
    return {'NeutronError': {'type': kind, 'message': message, 'detail': ''}}


class ScriptedFaults:
    """``faults[key] = (status, body)`` makes the handler named ``key`` fail."""

    faults: dict

    def _fault(self, key, context):
        if key in self.faults:
            code, body = self.faults[key]
            context.status_code = code
            return body
        return None


class FakeNeutron(ScriptedFaults):
    """Security groups and rules kept in dicts; ``in_use(group)`` blocks deletes."""

    def __init__(self, mocker, project):
        self.project = project
        self.groups = {}
        self.rules = {}
        self.faults = {}
        self.in_use = lambda group: False
        mocker.get(GROUPS, json=self._list_groups)
        mocker.post(GROUPS, json=self._create_group, status_code=201)
        mocker.delete(re.compile(re.escape(GROUPS) + r'/[^/?]+$'), json=self._delete_group)
        mocker.post(RULES, json=self._create_rule, status_code=201)
        mocker.delete(re.compile(re.escape(RULES) + r'/[^/?]+$'), json=self._delete_rule)
        # Ports (``ports[id] = {'id', 'device_id'}``, made by the test) and
        # floating IPs, filtered by query parameters as Neutron does.
        self.ports = {}
        self.floating_ips = {}
        self._next_ip = iter(range(10, 250))
        mocker.get(PORTS, json=lambda r, c: {'ports': self._filtered(self.ports, r)})
        mocker.get(FLOATING_IPS, json=lambda r, c: {
            'floatingips': self._filtered(self.floating_ips, r)})
        mocker.post(FLOATING_IPS, json=self._create_fip, status_code=201)
        mocker.put(re.compile(re.escape(FLOATING_IPS) + r'/[^/?]+$'), json=self._update_fip)
        mocker.delete(re.compile(re.escape(FLOATING_IPS) + r'/[^/?]+$'), json=self._delete_fip,
                      status_code=204)

    @staticmethod
    def _filtered(items, request):
        wanted = {k: v[0] for k, v in request.qs.items()}
        return [dict(i) for i in items.values()
                if all(str(i.get(k, '')).lower() == v for k, v in wanted.items())]

    def _create_fip(self, request, context):
        body = request.json()['floatingip']
        if body.get('port_id') and body['port_id'] not in self.ports:
            return neutron_error(context, 404, 'PortNotFound', 'Port not found')
        fip = {'id': str(uuid.uuid4()), 'floating_ip_address': '203.0.113.%d' % next(
            self._next_ip), 'floating_network_id': body['floating_network_id'],
            'description': body.get('description', ''), 'port_id': body.get('port_id')}
        self.floating_ips[fip['id']] = fip
        return {'floatingip': dict(fip)}

    def _update_fip(self, request, context):
        fip = self.floating_ips.get(request.path.rsplit('/', 1)[1])
        if fip is None:
            return neutron_error(context, 404, 'FloatingIPNotFound', 'not found')
        fip['port_id'] = request.json()['floatingip']['port_id']
        return {'floatingip': dict(fip)}

    def _delete_fip(self, request, context):
        if self.floating_ips.pop(request.path.rsplit('/', 1)[1], None) is None:
            return neutron_error(context, 404, 'FloatingIPNotFound', 'not found')
        return None

    def group(self, group_id):
        """A group as Neutron shows it: its rules embedded."""
        group = dict(self.groups[group_id])
        group['security_group_rules'] = [dict(r) for r in self.rules.values()
                                         if r['security_group_id'] == group_id]
        return group

    def find(self, name_or_id):
        """The group with this id, or the only one with this name (as Nova looks it up)."""
        if name_or_id in self.groups:
            return self.group(name_or_id)
        named = [g for g in self.groups.values() if g['name'] == name_or_id]
        return self.group(named[0]['id']) if len(named) == 1 else None

    def add_rule(self, group_id, **fields):
        rule = {'id': str(uuid.uuid4()), 'security_group_id': group_id,
                'direction': 'ingress', 'ethertype': 'IPv4', 'protocol': None,
                'port_range_min': None, 'port_range_max': None, 'remote_ip_prefix': None,
                'remote_group_id': None, 'description': '', 'project_id': self.project,
                'tenant_id': self.project, 'revision_number': 0}
        rule.update(fields)
        self.rules[rule['id']] = rule
        return rule

    def _list_groups(self, request, context):
        fault = self._fault('list_groups', context)
        if fault:
            return fault
        names = request.qs.get('name')
        return {'security_groups': [self.group(gid) for gid, g in self.groups.items()
                                    if not names or g['name'].lower() in names]}

    def _create_group(self, request, context):
        fault = self._fault('create_group', context)
        if fault:
            return fault
        body = request.json()['security_group']
        gid = str(uuid.uuid4())
        self.groups[gid] = {'id': gid, 'name': body['name'],
                            'description': body.get('description', ''),
                            'project_id': self.project, 'tenant_id': self.project,
                            'stateful': True, 'shared': False, 'tags': [],
                            'revision_number': 1}
        for ethertype in ('IPv4', 'IPv6'):
            self.add_rule(gid, direction='egress', ethertype=ethertype)
        return {'security_group': self.group(gid)}

    def _delete_group(self, request, context):
        gid = request.path.rsplit('/', 1)[1]
        fault = self._fault('delete_group', context)
        if fault:
            return fault
        if gid not in self.groups:
            return neutron_error(context, 404, 'SecurityGroupNotFound',
                                 'Security group %s does not exist' % gid)
        if self.in_use(self.groups[gid]):
            return neutron_error(context, 409, 'SecurityGroupInUse',
                                 'Security Group %s in use.' % gid)
        self.groups.pop(gid)
        self.rules = {k: r for k, r in self.rules.items() if r['security_group_id'] != gid}
        context.status_code = 204
        return None

    def _create_rule(self, request, context):
        fault = self._fault('create_rule', context)
        if fault:
            return fault
        body = request.json()['security_group_rule']
        gid = body['security_group_id']
        if gid not in self.groups:
            return neutron_error(context, 404, 'SecurityGroupNotFound',
                                 'Security group %s does not exist' % gid)
        keys = ('direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max',
                'remote_ip_prefix')
        for rule in self.rules.values():
            if rule['security_group_id'] == gid and all(
                    rule[k] == body.get(k) for k in keys):
                return neutron_error(context, 409, 'SecurityGroupRuleExists',
                                     'Security group rule already exists. Rule id is %s.'
                                     % rule['id'])
        return {'security_group_rule': dict(self.add_rule(gid, **body))}

    def _delete_rule(self, request, context):
        rid = request.path.rsplit('/', 1)[1]
        fault = self._fault('delete_rule', context)
        if fault:
            return fault
        if rid not in self.rules:
            return neutron_error(context, 404, 'SecurityGroupRuleNotFound',
                                 'Security group rule %s does not exist' % rid)
        self.rules.pop(rid)
        context.status_code = 204
        return None
