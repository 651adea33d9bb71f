"""Point-in-time recovery follows an automatic failover, end to end (MariaDB).

Real daemons and engines through the REST API: an HA primary created with
``pitr: {enabled: true}`` and a full backup (its window opens), a replica
of it.  Every process of the primary's server is killed -9; the failover
watch promotes the replica, which then archives its own binary logs
(trove/taskmanager/flows/pitr_failover.py) and gets a full backup of its
own.  Rows written on the new primary after the failover are restorable:
a new instance restored from the new primary to its latest restorable
time, after them, holds every row, those from before the failover too.
The old primary keeps its window.
"""
import datetime

import pytest

from tests.functional import failover_env as env
from tests.functional import helpers
from tests.functional import pitr_api_env as penv
from tests.functional.stack import Stack


@pytest.fixture(scope='module')
def fstack():
    st = Stack(usage_timeout=600, sections={'failover': {'check_interval': 0.5}})
    helpers.with_store(st)
    try:
        st.start()
        yield st
    finally:
        st.stop()


def _backups_of(st, instance_id):
    code, body = st.request('GET', '/instances/%s/backups' % instance_id)
    assert code == 200, body
    return body['backups']


def test_archiving_moves_to_the_promoted_primary(fstack):
    st, engine = fstack, env.MariaDB()
    primary, replica = env.build_set(st, engine, False, name='pf', pitr={'enabled': True})
    made = [replica['id'], primary['id']]
    try:
        helpers.eventually(lambda: penv.pitr(st, primary['id'])['enabled'], True)
        assert penv.pitr(st, replica['id'])['enabled'] is False   # a replica does not archive
        penv.backup(st, primary['id'])
        for n in range(5):
            engine.run(primary, 'INSERT INTO t (v) VALUES (%s)', ('old %d' % n,))
        old_window = penv.wait_latest(st, primary['id'], datetime.datetime.now(datetime.UTC))
        assert old_window['earliest_restorable_time'] is not None

        killed_at = env.kill_host(st, primary['id'])
        env.first_write(engine, replica, killed_at + 60)
        helpers.eventually(lambda: st.request('GET', '/instances/%s/failovers' % primary[
            'id'])[1]['failovers'][0]['state'], 'completed', timeout=60)
        old = st.request('GET', '/instances/%s' % primary['id'])[1]['instance']
        assert 'Point-in-time recovery continues on %s' % replica['id'] in old['fault'][
            'message']
        # The new primary archives, and its base backup opens its window.
        helpers.eventually(lambda: penv.pitr(st, replica['id'])['enabled'], True)
        helpers.eventually(lambda: [b['status'] for b in _backups_of(st, replica['id'])],
                           ['COMPLETED'], timeout=300)
        for n in range(5):
            engine.run(replica, 'INSERT INTO t (v) VALUES (%s)', ('new %d' % n,))
        written = datetime.datetime.now(datetime.UTC)
        window = penv.wait_latest(st, replica['id'], written)
        assert penv.parse(window['earliest_restorable_time']) > killed_at_utc(killed_at)
        expected = env.rows(engine, replica)
        assert expected[-1] == 'new 4' and 'old 4' in expected and 'after failover' in expected
        # The old primary's window is still there, where it stopped.
        kept = penv.pitr(st, primary['id'])
        assert kept['enabled'] and kept['earliest_restorable_time'] == old_window[
            'earliest_restorable_time']

        # To the latest restorable time, after every row: a restore to T
        # holds the commits up to the newest position sample at or before T.
        target = window['latest_restorable_time']
        assert penv.parse(target) > written
        code, body = st.request('POST', '/instances', {'instance': {
            'name': 'pf-restored', 'flavorRef': '2', 'volume': {'size': 1},
            'datastore': {'type': 'mariadb'},
            'restorePoint': {'instanceRef': replica['id'], 'restoreTime': target}}})
        assert code == 200, body
        made.append(body['instance']['id'])
        restored = helpers.ready(st, body['instance']['id'])
        assert env.rows(engine, restored) == expected
        # The old primary rejoins as a replica first: then every delete works.
        helpers.eventually(lambda: st.request('GET', '/instances/%s/failovers' % primary[
            'id'])[1]['failovers'][0]['rejoin'], 'rejoined', timeout=180)
    finally:
        # The old primary (a replica now) before the new one, which has it
        # as a replica until it is gone.
        for iid in reversed(made):
            code, body = st.request('DELETE', '/instances/%s' % iid)
            assert code == 202, (iid, code, body)
            st.wait_instance(iid, helpers.gone, timeout=180)


def killed_at_utc(killed_at):
    return datetime.datetime.fromtimestamp(killed_at, datetime.UTC)
