"""Register the single-host deployment's services in a Keystone catalog.

Run by bin/stack.sh (and by tests/functional/test_horizon.py, the same way)
with the project venv's python and the cloud admin's ``OS_*`` variables:

    keystone_catalog.py --api-url http://127.0.0.1:8779 [--object-store-url URL]

Registers, idempotently (an endpoint whose URL changed is updated):
  database       <api>/v1.0/$(project_id)s   trove itself
  compute        <api>/compute/v2.1           trove-api's read-only Nova reads
  block-storage  <api>/volume/v3/$(project_id)s  ... and Cinder reads
  volumev3       (the same; older clients look the service up by this type)
  object-store   --object-store-url, only when given (a real Swift); with
                 --reseller-admin the cloud admin also gets the role
                 ResellerAdmin on its project: trove's guests store backups
                 and published logs into each user's own account with it
The compute and block-storage entries are served by
trove/api/compute_catalog.py: the local driver's flavors, its one zone and
its volume types, which Horizon's Launch Instance reads from Nova and Cinder.
"""
import argparse
import os
import sys

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

INTERFACES = ('public', 'internal', 'admin')


def services(api_url, object_store_url):
    """(type, name, url) of every catalog entry to register."""
    api = api_url.rstrip('/')
    volume = api + '/volume/v3/$(project_id)s'
    entries = [('database', 'trove', api + '/v1.0/$(project_id)s'),
               ('compute', 'nova', api + '/compute/v2.1'),
               ('block-storage', 'cinder', volume),
               ('volumev3', 'cinderv3', volume)]
    if object_store_url:
        entries.append(('object-store', 'swift', object_store_url))
    return entries


def admin_session():
    """A keystoneauth session of the cloud admin named by the OS_* variables."""
    env = os.environ
    auth = v3.Password(
        auth_url=env['OS_AUTH_URL'], username=env.get('OS_USERNAME', 'admin'),
        password=env['OS_PASSWORD'], project_name=env.get('OS_PROJECT_NAME', 'admin'),
        user_domain_id=env.get('OS_USER_DOMAIN_ID', 'default'),
        project_domain_id=env.get('OS_PROJECT_DOMAIN_ID', 'default'))
    return ks_session.Session(auth=auth)


def _identity(sess, method, path, body=None):
    """A JSON call to the identity admin API (``path`` below /v3)."""
    resp = sess.request(path, method, json=body, raise_exc=True,
                        endpoint_filter={'service_type': 'identity', 'interface': 'public'})
    return resp.json() if resp.content else None


def ensure_service(sess, service_type, name):
    """The id of the service of ``service_type``, created when missing."""
    found = _identity(sess, 'GET', '/services?type=%s' % service_type)['services']
    if found:
        return found[0]['id']
    body = {'service': {'type': service_type, 'name': name, 'enabled': True}}
    return _identity(sess, 'POST', '/services', body)['service']['id']


def ensure_endpoint(sess, service_id, interface, url, region):
    """Create the endpoint, or point an existing one at ``url``; returns what was done."""
    found = _identity(sess, 'GET', '/endpoints?service_id=%s&interface=%s'
                      % (service_id, interface))['endpoints']
    found = [e for e in found if e.get('region_id') in (region, None)]
    if not found:
        _identity(sess, 'POST', '/endpoints', {'endpoint': {
            'service_id': service_id, 'interface': interface, 'url': url,
            'region_id': region, 'enabled': True}})
        return 'created'
    if found[0]['url'] != url:
        _identity(sess, 'PATCH', '/endpoints/%s' % found[0]['id'],
                  {'endpoint': {'url': url}})
        return 'updated'
    return 'kept'


def ensure_reseller_admin(sess, role='ResellerAdmin'):
    """Create ``role`` when missing and grant it to the session's user on its project."""
    found = _identity(sess, 'GET', '/roles?name=%s' % role)['roles']
    role_id = found[0]['id'] if found else _identity(
        sess, 'POST', '/roles', {'role': {'name': role}})['role']['id']
    user_id, project_id = sess.get_user_id(), sess.get_project_id()
    _identity(sess, 'PUT', '/projects/%s/users/%s/roles/%s' % (project_id, user_id, role_id))
    return role_id


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--api-url', required=True, help='trove-api, e.g. http://127.0.0.1:8779')
    parser.add_argument('--object-store-url', help='a real Swift proxy, AUTH_$(project_id)s URL')
    parser.add_argument('--region', default=os.environ.get('OS_REGION_NAME', 'RegionOne'))
    parser.add_argument('--reseller-admin', action='store_true',
                        help='grant the cloud admin ResellerAdmin (trove writes into '
                             'its users\' Swift accounts as that user)')
    args = parser.parse_args(argv)
    sess = admin_session()
    if args.reseller_admin:
        ensure_reseller_admin(sess)
        print('%-13s granted to the cloud admin' % 'ResellerAdmin')
    for service_type, name, url in services(args.api_url, args.object_store_url):
        service_id = ensure_service(sess, service_type, name)
        done = {ensure_endpoint(sess, service_id, i, url, args.region) for i in INTERFACES}
        print('%-13s %s (%s)' % (service_type, url, ', '.join(sorted(done))))
    return 0


if __name__ == '__main__':
    sys.exit(main())
