"""Users of an instance and their access to databases.

``/{tenant}/instances/{instance_id}/users[/{user}[/databases[/{database}]]]``
where ``{user}`` is the URL-quoted ``name`` or ``name@host`` (host '%' when
absent).  Like databases, every change is a synchronous guest call so the
202 comes after the change and guest-side errors reach the client.
Passwords travel to the guest only; they are never logged or returned.
"""
from oslo_log import log as logging

from trove.api import wsgi
from trove.api.controllers import guest_access
from trove.api.schemas import instances as instance_schemas
from trove.api.schemas import users as schemas
from trove.api.views import databases as db_views
from trove.api.views import users as views
from trove.common import exception
from trove.conf import CONF

LOG = logging.getLogger(__name__)


def split_user(user_id):
    """``(name, host)`` of a ``name`` or ``name@host`` path segment."""
    name, _sep, host = user_id.partition('@')
    if not name:
        raise exception.BadRequest(detail='the user %r has no name.' % user_id)
    return name, host or '%'


def _user_requests(items, with_databases):
    """Normalised user dicts of a request body; BadRequest on duplicates."""
    users, seen = [], set()
    for item in items:
        host = item.get('host') or '%'
        key = '%s@%s' % (item['name'], host)
        if key in seen:
            raise exception.BadRequest(detail='user %s is listed twice.' % key)
        seen.add(key)
        user = {'name': item['name'], 'password': item['password'], 'host': host}
        if with_databases:
            user['databases'] = [{'name': d['name']} for d in item.get('databases') or []]
        users.append(user)
    return users


class UserController:
    """``/{tenant}/instances/{instance_id}/users[/{id}]``."""

    schemas = {'create': schemas.create, 'update': schemas.update,
               'update_all': schemas.update_all}

    def index(self, req, tenant_id, instance_id):
        return guest_access.guest_page(req, instance_id, 'instance:extension:user:index',
                                       'users', CONF.users_page_size, views.users_view)

    def create(self, req, tenant_id, instance_id, body):
        users = _user_requests(body['users'], with_databases=True)
        grants = sum(len(u['databases']) for u in users)
        if grants > instance_schemas.MAX_GRANTS:
            # Each grant costs the guest ~0.15 s on the API thread's call.
            raise exception.BadRequest(
                detail='%d database grants requested; at most %d per request.'
                       % (grants, instance_schemas.MAX_GRANTS))
        _context, _inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:user:create')
        guest.create_user(users=users)
        LOG.info('Users %s created on instance %s',
                 ', '.join('%s@%s' % (u['name'], u['host']) for u in users), instance_id)
        return wsgi.Result(status=202)

    def update_all(self, req, tenant_id, instance_id, body):
        users = _user_requests(body['users'], with_databases=False)
        _context, _inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:user:update_all')
        guest.change_passwords(users=users)
        LOG.info('Passwords of %d users changed on instance %s', len(users), instance_id)
        return wsgi.Result(status=202)

    def show(self, req, tenant_id, instance_id, id):
        name, host = split_user(id)
        _context, _inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:user:show')
        return {'user': views.user_view(guest.get_user(username=name, hostname=host))}

    def update(self, req, tenant_id, instance_id, id, body):
        name, host = split_user(id)
        _context, _inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:user:update')
        attrs = body['user']
        guest.update_attributes(username=name, hostname=host, user_attrs=attrs)
        LOG.info('User %s@%s of instance %s updated (%s)', name, host, instance_id,
                 ', '.join(sorted(attrs)))
        return wsgi.Result(status=202)

    def delete(self, req, tenant_id, instance_id, id):
        name, host = split_user(id)
        _context, _inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:user:delete')
        guest.delete_user(user={'name': name, 'host': host})
        LOG.info('User %s@%s deleted on instance %s', name, host, instance_id)
        return wsgi.Result(status=202)


class UserAccessController:
    """``/{tenant}/instances/{instance_id}/users/{user_id}/databases[/{id}]``."""

    schemas = {'update': schemas.grant}

    def index(self, req, tenant_id, instance_id, user_id):
        name, host = split_user(user_id)
        _context, _inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:user_access:index')
        dbs = guest.list_access(username=name, hostname=host)
        return {'databases': db_views.databases_view(dbs)}

    def update(self, req, tenant_id, instance_id, user_id, body):
        name, host = split_user(user_id)
        _context, _inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:user_access:update')
        dbs = [d['name'] for d in body['databases']]
        guest.grant_access(username=name, hostname=host, databases=dbs)
        LOG.info('User %s@%s of instance %s granted %s', name, host, instance_id,
                 ', '.join(dbs))
        return wsgi.Result(status=202)

    def delete(self, req, tenant_id, instance_id, user_id, id):
        name, host = split_user(user_id)
        _context, _inst, guest = guest_access.ready_guest(
            req, instance_id, rule='instance:extension:user_access:delete')
        guest.revoke_access(username=name, hostname=host, database=id)
        LOG.info('User %s@%s of instance %s revoked from %s', name, host, instance_id, id)
        return wsgi.Result(status=202)
