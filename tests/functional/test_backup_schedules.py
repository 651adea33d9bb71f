"""End to end: a backup schedule of a real MariaDB fires on time, mixes full
and incremental backups, and its retention prunes the right ones.

A schedule every 10 seconds with ``full_every`` 2 and ``retention.count`` 2
runs on the real taskmanager; each slot takes one backup (named after its
slot, so a slot that ran twice would show), alternating full and
incremental.  Retention keeps the newest two and every backup they are
built on, and deletes the rest from the records and the store.  The newest
kept incremental restores with every row.  Deleting the schedule stops it.
"""
import os
import time

import pymysql
import pytest

from tests.functional import helpers

PASSWORD = 'Sched-pw-1'
EVERY = 10


@pytest.fixture(scope='module')
def stack():
    with helpers.store_stack('progress_interval = 2\nschedule_interval = 1\n'
                             'retention_interval = 2\n') as st:
        yield st


def _create(st, name, backup=None):
    body = {'name': name, 'flavorRef': '2', 'volume': {'size': 1},
            'datastore': {'type': 'mariadb'}, 'databases': [{'name': 'shop'}],
            'users': [{'name': 'app', 'password': PASSWORD, 'databases': [{'name': 'shop'}]}]}
    if backup:
        body['restorePoint'] = {'backupRef': backup}
    code, reply = st.request('POST', '/instances', {'instance': body})
    assert code == 200, reply
    return helpers.ready(st, reply['instance']['id'])


def _sql(inst, sql, args=None):
    with pymysql.connect(host=inst['addresses'][0]['address'], port=3306, user='app',
                         password=PASSWORD, database='shop', connect_timeout=10,
                         autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _scheduled(st, inst, schedule_id):
    backups = st.request('GET', '/instances/%s/backups' % inst['id'])[1]['backups']
    return sorted([b for b in backups if b['name'].startswith('every10 ')],
                  key=lambda b: b['created'])


def test_a_schedule_fires_mixes_and_keeps_what_retention_says(stack):
    st = stack
    inst = _create(st, 'scheduled')
    _sql(inst, 'CREATE TABLE t (id INT PRIMARY KEY)')
    code, body = st.request('POST', '/instances/%s/backup_schedules' % inst['id'], {
        'backup_schedule': {'name': 'every10', 'pattern': '* * * * * */%d' % EVERY,
                            'full_every': 2, 'retention': {'count': 2}}})
    assert code == 201, body
    schedule = body['backup_schedule']
    rows, seen = 0, {}

    def settled():
        nonlocal rows
        rows += 1
        _sql(inst, 'INSERT INTO t VALUES (%s)', (rows,))
        for b in _scheduled(st, inst, schedule['id']):
            seen[b['id']] = b
        shown = st.request('GET', '/instances/%s/backup_schedules/%s' % (
            inst['id'], schedule['id']))[1]['backup_schedule']
        return shown['runs']
    started = time.time()
    while settled() < 5 and time.time() - started < 240:
        time.sleep(2)
    assert settled() >= 5
    # Every slot once: the names carry distinct slot times, EVERY apart.
    slots = sorted(b['name'].split(' ', 1)[1] for b in seen.values())
    assert len(slots) == len(set(slots))
    assert all(int(s[17:19]) % EVERY == 0 for s in slots), slots
    # The first is full, then incremental and full by turns (a skipped slot
    # shifts nothing: the mix follows the runs that took a backup).
    ordered = sorted(seen.values(), key=lambda b: b['created'])
    assert ordered[0]['parent_id'] is None
    assert any(b['parent_id'] for b in ordered)

    # Retention: once the newest is completed, at most the newest two
    # completed ones and their chain are left; the rest is gone (store too).
    def kept():
        live = [b for b in _scheduled(st, inst, schedule['id'])
                if b['status'] == 'COMPLETED']
        return len(live) <= 3 and len(ordered) > len(live)
    helpers.eventually(kept, True, timeout=120)
    st.request('DELETE', '/instances/%s/backup_schedules/%s' % (inst['id'], schedule['id']))
    time.sleep(3)   # a cast in flight lands
    live = [b for b in _scheduled(st, inst, schedule['id']) if b['status'] == 'COMPLETED']
    by_id = {b['id']: b for b in live}
    for b in live:   # every kept backup's chain is there
        parent = b['parent_id']
        while parent:
            assert parent in by_id, (b['id'], parent)
            parent = by_id[parent]['parent_id']
    gone = [b for b in ordered if b['id'] not in by_id]
    assert gone
    for b in gone:
        helpers.eventually(lambda b=b: st.request('GET', '/backups/%s' % b['id'])[0], 404,
                           timeout=60)
    files = [os.path.join(d, f) for d, _, fs in os.walk(st.store) for f in fs]
    assert not [f for f in files for b in gone if b['id'] in f]

    # The newest kept backup restores with its rows.
    newest = max(live, key=lambda b: b['created'])
    restored = _create(st, 'restored', backup=newest['id'])
    count = _sql(restored, 'SELECT COUNT(*) FROM t')[0][0]
    assert 0 < count <= rows
    # The schedule is gone: no new backups.
    before = len(_scheduled(st, inst, schedule['id']))
    time.sleep(EVERY + 3)
    assert len(_scheduled(st, inst, schedule['id'])) == before
    leftover = _scheduled(st, inst, schedule['id'])
    for iid in (restored['id'], inst['id']):
        st.request('DELETE', '/instances/%s' % iid)
        st.wait_instance(iid, helpers.gone, timeout=120)
    for b in leftover:
        st.request('DELETE', '/backups/%s' % b['id'])
    for b in leftover:
        helpers.eventually(lambda b=b: st.request('GET', '/backups/%s' % b['id'])[0], 404,
                           timeout=60)
