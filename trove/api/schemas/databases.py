"""JSON schemas (Draft 4) of the database requests of an instance."""
from trove.api.schemas import instances as common

create = {
    'type': 'object', 'required': ['databases'],
    'properties': {
        'databases': dict(common.databases, minItems=1),
    },
}
