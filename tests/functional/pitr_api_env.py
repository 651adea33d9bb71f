"""What the API-level PITR tests share (PostgreSQL and MariaDB): backups,
the window, deletes and the archive objects in the stack's local store."""
import datetime
import os
import time

from trove.backup.stores import local

from tests.functional import helpers


def count(stack):
    code, body = stack.request('GET', '/instances')
    assert code == 200, body
    return len(body['instances'])


def backup(stack, instance_id, parent=None):
    """A full backup (or an incremental on ``parent``) through the API, once
    COMPLETED (asserted)."""
    request = {'name': 'pitr-inc' if parent else 'pitr-full', 'instance': instance_id}
    if parent:
        request['parent_id'] = parent
    code, body = stack.request('POST', '/backups', {'backup': request})
    assert code == 202, body
    deadline = time.time() + 300
    while time.time() < deadline:
        _code, shown = stack.request('GET', '/backups/%s' % body['backup']['id'])
        if shown['backup']['status'] in ('COMPLETED', 'FAILED'):
            assert shown['backup']['status'] == 'COMPLETED', shown
            return shown['backup']
        time.sleep(1)
    raise AssertionError('backup did not finish')


def pitr(stack, instance_id):
    code, body = stack.request('GET', '/instances/%s' % instance_id)
    assert code == 200, body
    return body['instance']['pitr']


def parse(text):
    return datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))


def iso(when):
    return when.isoformat().replace('+00:00', 'Z')


def wait_latest(stack, instance_id, after, timeout=120):
    """The window once its latest restorable time passed ``after``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        window = pitr(stack, instance_id)
        if window['latest_restorable_time'] and parse(window['latest_restorable_time']) > after:
            return window
        time.sleep(1)
    raise AssertionError('latest_restorable_time did not pass %s: %r' % (after, window))


def delete(stack, ids):
    for instance_id in ids:
        stack.request('DELETE', '/instances/%s' % instance_id)
    for instance_id in ids:
        stack.wait_instance(instance_id, lambda c, b: c == 404, timeout=120)


def delete_backup(stack, backup_id):
    code, body = stack.request('DELETE', '/backups/%s' % backup_id)
    assert code == 202, body
    helpers.eventually(lambda: stack.request('GET', '/backups/%s' % backup_id)[0], 404)


def archive_keys(stack, instance_id):
    """The segment keys of the instance's archive objects in the stack's store."""
    store, keys = local.LocalStore(stack.store), set()
    for container in os.listdir(stack.store):
        for name, _location in store.list_objects(container, 'archive/%s/' % instance_id):
            keys.add(name.split('/')[3])   # archive/<instance>/<period>/<segment>/<offset>
    return keys


def backup_meta(stack, backup_row):
    """The store metadata of a backup shown by the API (local store)."""
    import json
    container, name = backup_row['locationRef'].removeprefix('local:///').split('/', 1)
    with open(os.path.join(stack.store, container, name) + local.META_SUFFIX) as f:
        return json.load(f)


def logged(stack, text):
    """Whether a daemon's log of the stack holds ``text``."""
    directory = os.path.join(stack.dir, 'log')
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), errors='replace') as f:
            if text in f.read():
                return True
    return False
