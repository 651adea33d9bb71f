"""JSON schema (Draft 4) of ``POST /instances/{id}/log``.

python-troveclient sends ``{"name": ...}`` alone for ``log show`` and adds one
of the actions as ``1`` for ``log set``; booleans are accepted too.  That at
most one action is true is checked by the controller (the message is clearer).
"""
_FLAG = {'oneOf': [{'type': 'boolean'}, {'type': 'integer', 'enum': [0, 1]}]}
ACTIONS = ('enable', 'disable', 'publish', 'discard')

action = {
    'type': 'object', 'required': ['name'], 'additionalProperties': False,
    'properties': dict({'name': {'type': 'string', 'minLength': 1, 'maxLength': 64}},
                       **{a: _FLAG for a in ACTIONS}),
}
