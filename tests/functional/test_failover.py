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
The client talks to the set's writer address throughout: the same
host:port leads to the new primary once it takes writes.
The failover is visible to the tenant (the old primary's fault and
failover list) and to the admin (/mgmt/failovers).  Then the old primary
rejoins by itself as a replica of the new one (taskmanager/rejoin.py) and
follows it; in synchronous mode commits wait for it again.
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
    ha = shown['high_availability']
    assert (ha['enabled'], ha['synchronous']) == (True, synchronous)
    # The writer address: its own, leading to the primary whoever it is.
    writer_address = {'addresses': [{'address': ha['writer_address']}]}
    assert ha['writer_address'] not in (env.address(primary), env.address(replica))
    assert shown['addresses'] == primary['addresses']
    for n in range(20):
        engine.run(writer_address, 'INSERT INTO t (v) VALUES (%s)', ('row %d' % n,))
    expected = ['before'] + ['row %d' % n for n in range(20)]
    helpers.eventually(lambda: env.rows(engine, replica), expected, errors=())

    assert engine.synchronous(primary) is synchronous
    writer = env.Writer(engine, writer_address)
    if synchronous:
        writer.start()
        helpers.eventually(lambda: len(writer.acked) >= 20, True)

    # The primary's host dies: every process of its server, at once.
    killed_at = env.kill_host(st, primary['id'])
    # The client writes to the same host:port as before the failure.
    written_at = env.first_write(engine, writer_address, killed_at + 60)
    writer.stop.set()
    took = written_at - killed_at
    assert took <= WRITABLE_BOUND, 'first write %.1fs after the kill' % took
    rows = env.rows(engine, replica)
    # Nothing acknowledged is lost: every row the client was told was
    # committed is on the new primary (async: it had caught up before).
    # (The client's writer goes on through the same address: its rows may
    # follow the first write.)
    assert rows[:len(expected)] == expected and 'after failover' in rows
    assert set(writer.acked) <= set(rows), sorted(set(writer.acked) - set(rows))

    # The first write lands as soon as the replica is promoted; the record
    # ends once the rest of the set follows.
    helpers.eventually(lambda: st.request('GET', '/instances/%s/failovers' % primary['id'])[
        1]['failovers'][0]['state'], 'completed')
    new = st.request('GET', '/instances/%s' % replica['id'])[1]['instance']
    assert 'replica_of' not in new and [r['id'] for r in new['replicas']] == [primary['id']]
    assert new['high_availability']['writer_address'] == ha['writer_address']
    assert new['addresses'] == replica['addresses']
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

    # The old primary rejoins by itself: its server is powered on, its guest
    # keeps the engine down (it may not write) until it follows the new one.
    helpers.eventually(lambda: st.request('GET', '/instances/%s/failovers' % primary['id'])[
        1]['failovers'][0]['rejoin'], 'rejoined', timeout=180)
    old = st.request('GET', '/instances/%s' % primary['id'])[1]['instance']
    assert old['replica_of']['id'] == replica['id']
    assert 'Rejoined as a replica of %s' % replica['id'] in old['fault']['message']
    engine.run(replica, "INSERT INTO t (v) VALUES ('after rejoin')")
    helpers.eventually(lambda: env.rows(engine, primary), env.rows(engine, replica),
                       errors=(engine.errors,))
    with pytest.raises(engine.errors):   # a read-only replica now
        engine.run(primary, "INSERT INTO t (v) VALUES ('on the old primary')")
    # A synchronous set has its follower back: commits wait for it again.
    helpers.eventually(lambda: engine.synchronous(replica), synchronous,
                       errors=(engine.errors,))

    # Delete always works: the fenced old primary, then the new one.
    for iid in (primary['id'], replica['id']):
        code, body = st.request('DELETE', '/instances/%s' % iid)
        assert code == 202, body
        st.wait_instance(iid, helpers.gone, timeout=120)


@pytest.mark.parametrize('engine', [env.MariaDB(), env.PostgreSQL()], ids=lambda e: e.name)
def test_engine_and_agent_killed_together(fstack, engine):
    """kill -9 of the primary's engine and agent (its server stays up): the
    restarted agent keeps the engine down (the failover guard), the replica
    takes over at the same writer address with no acknowledged commit
    lost, and the old primary rejoins as its replica."""
    st = fstack
    if engine.name == 'postgresql' and not st.pg:
        pytest.skip('PostgreSQL binaries are missing')
    primary, replica = env.build_set(st, engine, True, name='ea')
    ha = st.request('GET', '/instances/%s' % primary['id'])[1]['instance'][
        'high_availability']
    writer_address = {'addresses': [{'address': ha['writer_address']}]}
    writer = env.Writer(engine, writer_address)
    writer.start()
    helpers.eventually(lambda: len(writer.acked) >= 20, True)
    killed_at = env.kill_engine_and_agent(st, primary['id'])
    written_at = env.first_write(engine, writer_address, killed_at + 60)
    writer.stop.set()
    writer.join(10)
    took = written_at - killed_at
    assert took <= WRITABLE_BOUND, 'first write %.1fs after the kill' % took
    rows = env.rows(engine, replica)
    assert set(writer.acked) <= set(rows), sorted(set(writer.acked) - set(rows))
    helpers.eventually(lambda: st.request('GET', '/instances/%s/failovers' % primary['id'])[
        1]['failovers'][0]['rejoin'], 'rejoined', timeout=180)
    engine.run(replica, "INSERT INTO t (v) VALUES ('after rejoin')")
    helpers.eventually(lambda: env.rows(engine, primary), env.rows(engine, replica),
                       errors=(engine.errors,))
    with pytest.raises(engine.errors):
        engine.run(primary, "INSERT INTO t (v) VALUES ('on the old primary')")
    for iid in (primary['id'], replica['id']):
        assert st.request('DELETE', '/instances/%s' % iid)[0] == 202
        st.wait_instance(iid, helpers.gone, timeout=120)
