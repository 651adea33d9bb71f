"""JSON schema (Draft 4) of ``POST /instances/{id}/ssl``.

``{"ssl": {"enable": true, "container_ref": .., "password_ref"?: ..,
"mode"?: basic|enforced|mtls}}``, ``{"ssl": {"disable": true}}`` or
``{"ssl": {"rollback": true}}``; that exactly one action is true is checked
by the controller (the message is clearer).
"""
_REF = {'type': 'string', 'minLength': 1, 'maxLength': 255}
ACTIONS = ('enable', 'disable', 'rollback')

action = {
    'type': 'object', 'required': ['ssl'], 'additionalProperties': False,
    'properties': {'ssl': {
        'type': 'object', 'additionalProperties': False,
        'properties': dict({'container_ref': _REF, 'password_ref': _REF,
                            'mode': {'type': 'string', 'enum': ['basic', 'enforced', 'mtls']}},
                           **{a: {'type': 'boolean'} for a in ACTIONS}),
    }},
}
