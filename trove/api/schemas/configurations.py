"""JSON schemas (Draft 4) of configuration groups, instance update and actions.

Values are only checked to be an object here: their keys, types and bounds
come from the datastore version's parameter catalogue, checked by the
controller so the message can name the offending key.
"""
from trove.api.schemas import instances as instance_schemas
from trove.api.schemas.instances import flavorref, non_empty_string, uuid, volume_size

_name = dict(non_empty_string, maxLength=64)
_description = {'type': ['string', 'null'], 'maxLength': 256}
# The catalogues list at most 41 parameters (postgresql); 100 leaves room.
MAX_VALUES = 100
_values = {'type': 'object', 'maxProperties': MAX_VALUES}

create = {
    'type': 'object', 'required': ['configuration'],
    'properties': {'configuration': {
        'type': 'object', 'required': ['name', 'values'], 'additionalProperties': False,
        'properties': {
            'name': _name, 'description': _description, 'values': _values,
            'datastore': {
                'type': 'object', 'additionalProperties': False,
                'properties': {'type': non_empty_string, 'version': non_empty_string,
                               'version_number': non_empty_string}},
        }}},
}

# PATCH merges values; PUT replaces them and may rename.
edit = {
    'type': 'object', 'required': ['configuration'],
    'properties': {'configuration': {
        'type': 'object', 'required': ['values'],
        'properties': {'values': _values}}},
}

update = {
    'type': 'object', 'required': ['configuration'],
    'properties': {'configuration': {
        'type': 'object', 'required': ['values'],
        'properties': {'name': _name, 'description': _description, 'values': _values}}},
}

instance_update = {
    'type': 'object', 'required': ['instance'],
    'properties': {'instance': {
        'type': 'object', 'additionalProperties': False,
        'properties': {
            'name': non_empty_string,
            'configuration': {'oneOf': [uuid, {'type': 'null'}]},
            'replica_of': {}, 'slave_of': {}, 'datastore_version': {},
            'access': instance_schemas.access,
            'high_availability': instance_schemas.high_availability,
            'pitr': instance_schemas.pitr,
        }}},
}

_empty = {'type': 'object'}

action = {
    'type': 'object', 'minProperties': 1, 'maxProperties': 1,
    'additionalProperties': False,
    'properties': {
        'restart': _empty,
        'reset_status': _empty,
        'promote_to_replica_source': _empty,
        'eject_replica_source': _empty,
        'resize': {'oneOf': [
            {'type': 'object', 'required': ['flavorRef'], 'additionalProperties': False,
             'properties': {'flavorRef': flavorref}},
            {'type': 'object', 'required': ['volume'], 'additionalProperties': False,
             'properties': {'volume': {
                 'type': 'object', 'required': ['size'], 'additionalProperties': False,
                 'properties': {'size': volume_size}}}},
        ]},
    },
}
