"""JSON schemas (Draft 4) of the instance requests, after upstream's apischema.

The schema accepts every field python-troveclient sends; fields the service
cannot honour yet are refused by the controller with a clear message, which
a schema error would not give.

Every list is bounded (upstream bounds only ``nics``): databases and users
are created by one synchronous guest call on an API thread, so the largest
allowed request must finish in a few seconds.  Measured on a real MariaDB
instance of the functional stack (tools/bench/guest_batch.py, 2 shared
cores): 50 databases 4.0 s, 10 users with a grant each 1.8 s (50: 8.8 s),
a grant of 10 databases 1.9 s (50: 7.3 s).
"""
MAX_DATABASES = 50
MAX_USERS = 20
# Databases one user is granted in a request; users.create also caps the
# grants of all its users together (see MAX_GRANTS).
MAX_USER_DATABASES = 20
MAX_GRANTS = 20
MAX_CIDRS = 50
MAX_MODULES = 20

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

host_string = {'type': 'string', 'minLength': 1, 'maxLength': 255,
               'pattern': r'^[%]?[\w(-).]*[%]?$'}

# Free-form strings (ids looked up, zone and region names) fit their columns.
short_string = {'type': 'string', 'maxLength': 255}
optional_string = {'type': ['string', 'null'], 'maxLength': 255}
# A replica set that fails over by itself (api/controllers/high_availability.py).
high_availability = {
    'type': 'object', 'additionalProperties': False,
    'properties': {'enabled': {'type': 'boolean'}, 'synchronous': {'type': 'boolean'}},
}
# The continuous archive for point-in-time recovery (api/controllers/pitr.py).
pitr = {
    'type': 'object', 'additionalProperties': False, 'required': ['enabled'],
    'properties': {'enabled': {'type': 'boolean'}},
}

name_list = {
    'type': 'array', 'maxItems': MAX_USER_DATABASES,
    'items': {'type': 'object', 'required': ['name'],
              'properties': {'name': non_empty_string}},
}

databases = {
    'type': 'array', 'maxItems': MAX_DATABASES,
    'items': {
        'type': 'object', 'required': ['name'],
        'properties': {'name': non_empty_string,
                       'character_set': non_empty_string,
                       'collate': non_empty_string},
    },
}

users = {
    'type': 'array', 'maxItems': MAX_USERS,
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
        'properties': {'net-id': short_string, 'network_id': short_string,
                       'subnet_id': short_string, 'ip_address': short_string},
    },
}

access = {
    'type': 'object', 'additionalProperties': False,
    'properties': {'is_public': {'type': 'boolean'},
                   'allowed_cidrs': {'type': 'array', 'maxItems': MAX_CIDRS, 'items': {
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
                    'properties': {'size': volume_size, 'type': optional_string},
                },
                'datastore': {
                    'type': 'object',
                    'properties': {'type': optional_string, 'version': optional_string,
                                   'version_number': optional_string},
                },
                'databases': databases,
                'users': users,
                'nics': nics,
                'availability_zone': optional_string,
                'access': access,
                'modules': {'type': 'array', 'maxItems': MAX_MODULES,
                            'items': {'type': 'object', 'required': ['id'],
                                      'properties': {'id': uuid}}},
                'configuration': {'oneOf': [uuid, {'type': 'null'}]},
                'locality': {'type': ['string', 'null'],
                             'enum': ['affinity', 'anti-affinity', None]},
                'region_name': optional_string,
                'replica_count': {'type': 'integer', 'minimum': 1, 'maximum': 3},
                'replica_of': optional_string,
                'high_availability': high_availability,
                'pitr': pitr,
                # backupRef alone: that backup; with restoreTime (ISO 8601 with a
                # zone): the source's state at that time (backupRef or
                # instanceRef names the source).
                'restorePoint': {
                    'type': 'object', 'additionalProperties': False,
                    'anyOf': [{'required': ['backupRef']},
                              {'required': ['instanceRef', 'restoreTime']}],
                    'properties': {'backupRef': short_string, 'instanceRef': short_string,
                                   'restoreTime': short_string},
                },
            },
        },
    },
}
