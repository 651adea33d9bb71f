"""Automatic failover of a highly available replica set, end to end
(MariaDB and PostgreSQL).

Real daemons and engines through the REST API: a primary created with
``high_availability.enabled`` and a replica built from it.  Every process
of the primary's server (supervisor, guest agent, mariadbd) is killed -9, as
if its host had died; the taskmanager's failover watch fences it, promotes
the replica, and the client's first write on the new primary is accepted
within WRITABLE_BOUND seconds of the kill with every earlier row there.
In synchronous mode a client commits rows without pause while the primary
is killed: every commit it got an acknowledgement for is on the new primary.
The failover is visible to the tenant (the old primary's fault and
failover list) and to the admin (/mgmt/failovers).
"""
import pytest

from tests.functional import failover_env as env
from tests.functional import helpers
from tests.functional.stack import Stack

WRITABLE_BOUND = 10


@pytest.fixture(scope='module')
def fstack():
    pg = helpers.pg_version()
    st = Stack(usage_timeout=600, sections={'failover': {'check_interval': 0.5}})
    try:
        st.start(datastore_versions=[('postgresql', pg, 'postgresql')] if pg else [])
        st.pg = pg
        yield st
    finally:
        st.stop()


@pytest.mark.parametrize('synchronous', [False, True], ids=['async', 'sync'])
@pytest.mark.parametrize('engine', [env.MariaDB(), env.PostgreSQL()], ids=lambda e: e.name)
def test_the_replica_takes_over_from_a_dead_primary(fstack, engine, synchronous):
    st = fstack
    if engine.name == 'postgresql' and not st.pg:
        pytest.skip('PostgreSQL binaries are missing')
    primary, replica = env.build_set(st, engine, synchronous)
    shown = st.request('GET', '/instances/%s' % primary['id'])[1]['instance']
    assert shown['high_availability'] == {'enabled': True, 'synchronous': synchronous}
    for n in range(20):
        engine.run(primary, 'INSERT INTO t (v) VALUES (%s)', ('row %d' % n,))
    expected = ['before'] + ['row %d' % n for n in range(20)]
    helpers.eventually(lambda: env.rows(engine, replica), expected, errors=())

    assert engine.synchronous(primary) is synchronous
    writer = env.Writer(engine, primary)
    if synchronous:
        writer.start()
        helpers.eventually(lambda: len(writer.acked) >= 20, True)

    # The primary's host dies: every process of its server, at once.
    killed_at = env.kill_host(st, primary['id'])
    written_at = env.first_write(engine, replica, killed_at + 60)
    writer.stop.set()
    took = written_at - killed_at
    assert took <= WRITABLE_BOUND, 'first write %.1fs after the kill' % took
    rows = env.rows(engine, replica)
    # Nothing acknowledged is lost: every row the client was told was
    # committed is on the new primary (async: it had caught up before).
    assert rows[:len(expected)] == expected and rows[-1] == 'after failover'
    assert set(writer.acked) <= set(rows), sorted(set(writer.acked) - set(rows))

    # The first write lands as soon as the replica is promoted; the record
    # ends once the rest of the set follows.
    helpers.eventually(lambda: st.request('GET', '/instances/%s/failovers' % primary['id'])[
        1]['failovers'][0]['state'], 'completed')
    new = st.request('GET', '/instances/%s' % replica['id'])[1]['instance']
    assert 'replica_of' not in new and [r['id'] for r in new['replicas']] == [primary['id']]
    assert new['high_availability']['enabled'] is True   # the set stays highly available
    old = st.request('GET', '/instances/%s' % primary['id'])[1]['instance']
    assert old['replica_of']['id'] == replica['id']
    assert 'Instance %s took over' % replica['id'] in old['fault']['message']
    # Its only replica is the dead old primary: commits do not wait for it.
    assert ('Synchronous replication is suspended' in old['fault']['message']) is synchronous
    assert engine.synchronous(replica) is False
    [record] = st.request('GET', '/instances/%s/failovers' % primary['id'])[1]['failovers']
    assert (record['state'], record['new_primary_id']) == ('completed', replica['id'])
    assert 'SHUTDOWN' in record['reason'] and record['seconds_to_writable'] <= took + 5
    admin = st.request('GET', '/mgmt/failovers')[1]['failovers']
    assert admin[0]['id'] == record['id']

    # Delete always works: the fenced old primary, then the new one.
    for iid in (primary['id'], replica['id']):
        code, body = st.request('DELETE', '/instances/%s' % iid)
        assert code == 202, body
        st.wait_instance(iid, helpers.gone, timeout=120)
