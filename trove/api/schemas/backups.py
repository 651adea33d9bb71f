"""JSON schemas (Draft 4) of backup and backup strategy requests."""
from trove.api.schemas.instances import non_empty_string, uuid

create = {
    'type': 'object', 'required': ['backup'],
    'properties': {
        'backup': {
            'type': 'object', 'required': ['name', 'instance'],
            'properties': {
                'name': non_empty_string,
                'instance': uuid,
                'description': {'type': ['string', 'null'], 'maxLength': 512},
                'parent_id': {'oneOf': [uuid, {'type': 'null'}]},
                'incremental': {'type': ['integer', 'boolean'], 'enum': [0, 1, True, False]},
                'swift_container': {'type': ['string', 'null'], 'maxLength': 255},
                'storage_driver': {'type': ['string', 'null'], 'maxLength': 32},
                'restore_from': {'type': ['object', 'null']},
            },
        },
    },
}

strategy_create = {
    'type': 'object', 'required': ['backup_strategy'],
    'properties': {
        'backup_strategy': {
            'type': 'object', 'required': ['swift_container'],
            'properties': {
                'instance_id': {'oneOf': [uuid, {'type': 'null'}, {'enum': ['']}]},
                'swift_container': non_empty_string,
            },
        },
    },
}

_count = {'oneOf': [{'type': 'integer', 'minimum': 1, 'maximum': 100000}, {'type': 'null'}]}

schedule_create = {
    'type': 'object', 'required': ['backup_schedule'],
    'properties': {
        'backup_schedule': {
            'type': 'object', 'required': ['name', 'pattern'],
            'additionalProperties': False,
            'properties': {
                'name': non_empty_string,
                'pattern': {'type': 'string', 'minLength': 1, 'maxLength': 255},
                'full_every': {'type': 'integer', 'minimum': 1, 'maximum': 1000},
                'retention': {
                    'type': 'object', 'additionalProperties': False,
                    'properties': {'count': _count, 'days': _count},
                },
            },
        },
    },
}
