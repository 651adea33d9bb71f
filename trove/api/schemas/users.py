"""JSON schemas (Draft 4) of the user and access requests of an instance.

Names are only checked for shape here; what a name may contain is the
engine's rule and comes back from the guest as a 400.
"""
from trove.api.schemas import instances as common

create = {
    'type': 'object', 'required': ['users'],
    'properties': {'users': dict(common.users, minItems=1)},
}

# PUT /users/{user}: rename, move to another host and/or set the password.
update = {
    'type': 'object', 'required': ['user'],
    'properties': {
        'user': {
            'type': 'object', 'minProperties': 1, 'additionalProperties': False,
            'properties': {'name': common.non_empty_string,
                           'password': common.non_empty_string,
                           'host': common.host_string},
        },
    },
}

# PUT /users: change the passwords of several users at once.
update_all = {
    'type': 'object', 'required': ['users'],
    'properties': {
        'users': {
            'type': 'array', 'minItems': 1, 'maxItems': common.MAX_USERS,
            'items': {
                'type': 'object', 'required': ['name', 'password'],
                'properties': {'name': common.non_empty_string,
                               'password': common.non_empty_string,
                               'host': common.host_string},
            },
        },
    },
}

# PUT /users/{user}/databases: grant access.
grant = {
    'type': 'object', 'required': ['databases'],
    'properties': {'databases': dict(common.name_list, minItems=1)},
}

# POST /root: the body is optional; a given password must be usable.
root_create = {
    'type': 'object',
    'properties': {'password': {'oneOf': [common.non_empty_string, {'type': 'null'}]}},
}
