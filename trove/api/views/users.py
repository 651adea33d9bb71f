"""Views of the users of an instance: ``{name, host, databases: [{name}]}``.

Passwords never appear in a view, whatever the guest returned.
"""
from trove.api.views import databases


def user_view(user):
    return {'name': user['name'], 'host': user.get('host') or '%',
            'databases': databases.databases_view(user.get('databases') or [])}


def users_view(users):
    return [user_view(user) for user in users]
