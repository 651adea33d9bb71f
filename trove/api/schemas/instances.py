"""JSON schemas (Draft 4) of the instance requests, after upstream's apischema.

The schema accepts every field python-troveclient sends; fields the service
cannot honour yet are refused by the controller with a clear message, which
a schema error would not give.
"""

non_empty_string = {
    'type': 'string', 'minLength': 1, 'maxLength': 255,
    'pattern': '^.*[0-9a-zA-Z]+.*$',
}

uuid = {
    'type': 'string',
    'pattern': '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
               '-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
}

flavorref = {'oneOf': [non_empty_string, {'type': 'integer'}]}

volume_size = {'oneOf': [
    {'type': 'integer', 'minimum': 1},
    {'type': 'string', 'pattern': '^0*[1-9][0-9]*$'},
]}

host_string = {'type': 'string', 'minLength': 1, 'pattern': r'^[%]?[\w(-).]*[%]?$'}

name_list = {
    'type': 'array',
    'items': {'type': 'object', 'required': ['name'],
              'properties': {'name': non_empty_string}},
}

databases = {
    'type': 'array',
    'items': {
        'type': 'object', 'required': ['name'],
        'properties': {'name': non_empty_string,
                       'character_set': non_empty_string,
                       'collate': non_empty_string},
    },
}

users = {
    'type': 'array',
    'items': {
        'type': 'object', 'required': ['name', 'password'],
        'properties': {'name': non_empty_string, 'password': non_empty_string,
                       'host': host_string, 'databases': name_list},
    },
}

nics = {
    'type': 'array', 'maxItems': 1,
    'items': {
        'type': 'object', 'additionalProperties': False,
        'properties': {'net-id': {'type': 'string'}, 'network_id': {'type': 'string'},
                       'subnet_id': {'type': 'string'}, 'ip_address': {'type': 'string'}},
    },
}

access = {
    'type': 'object', 'additionalProperties': False,
    'properties': {'is_public': {'type': 'boolean'},
                   'allowed_cidrs': {'type': 'array', 'items': {
                       'type': 'string',
                       # IPv4 CIDR as upstream's schema; the address part is
                       # checked properly by the controller.
                       'pattern': r'^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$'}}},
}

create = {
    'type': 'object', 'required': ['instance'],
    'properties': {
        'instance': {
            'type': 'object', 'required': ['name'],
            'properties': {
                'name': non_empty_string,
                'flavorRef': flavorref,
                'volume': {
                    'type': 'object', 'required': ['size'],
                    'properties': {'size': volume_size,
                                   'type': {'type': ['string', 'null']}},
                },
                'datastore': {
                    'type': 'object',
                    'properties': {'type': {'type': ['string', 'null']},
                                   'version': {'type': ['string', 'null']},
                                   'version_number': {'type': ['string', 'null']}},
                },
                'databases': databases,
                'users': users,
                'nics': nics,
                'availability_zone': {'type': ['string', 'null']},
                'access': access,
                'modules': {'type': 'array',
                            'items': {'type': 'object', 'required': ['id'],
                                      'properties': {'id': uuid}}},
                'configuration': {'oneOf': [uuid, {'type': 'null'}]},
                'locality': {'type': ['string', 'null'],
                             'enum': ['affinity', 'anti-affinity', None]},
                'region_name': {'type': ['string', 'null']},
                'replica_count': {'type': 'integer', 'minimum': 1},
                'replica_of': {'type': ['string', 'null']},
                'restorePoint': {
                    'type': 'object', 'required': ['backupRef'],
                    'properties': {'backupRef': {'type': 'string'}},
                },
            },
        },
    },
}
