"""Redis replication helpers: the persisted config and offset ordering."""
import pytest

from trove.common import exception
from trove.guestagent.engines.redis import config
from trove.guestagent.engines.redis import replication as repl


def test_replica_conf_follows_with_the_replication_user():
    text = repl.render_replication_conf({
        'user': 'os_repl', 'user_hash': 'ab' * 32, 'following': ['10.0.0.1', 6379, 'os_repl'],
        'password': 'p"w', 'read_only': True})
    lines = text.splitlines()
    assert 'user os_repl reset on #%s +psync +replconf +ping' % ('ab' * 32) in lines
    assert lines[2:] == ['replicaof 10.0.0.1 6379', 'masteruser os_repl',
                         'masterauth "p\\"w"', 'replica-read-only yes']


def test_primary_conf_keeps_only_the_hash_and_the_fence():
    state = {'user': 'os_repl', 'user_hash': 'cd' * 32, 'read_only': True}
    lines = repl.render_replication_conf(state).splitlines()
    assert lines[-1] == 'min-replicas-to-write %d' % repl.FENCE
    assert not any('masterauth' in line for line in lines)
    state['read_only'] = False
    assert 'min-replicas' not in repl.render_replication_conf(state)


@pytest.mark.parametrize('a, b, expected', [(5, 5, 0), (6, 5, 1), (4, 5, -1)])
def test_offsets_compare_across_replids(a, b, expected):
    assert repl.RedisReplication.compare({'offset': a, 'replid': 'x'},
                                         {'offset': b, 'replid': 'y'}) == expected


def test_bad_positions_and_users_are_refused():
    with pytest.raises(exception.BadRequest):
        repl.RedisReplication.compare({'gtid': '0-1-1'}, {'offset': 1})
    with pytest.raises(exception.BadRequest):
        repl._user('default')
    with pytest.raises(exception.BadRequest):
        repl._user('a b')


def test_main_conf_includes_the_replication_file(tmp_path):
    paths = config.Paths(datadir=str(tmp_path / 'd'), run_dir=str(tmp_path / 'r'),
                         log_dir=str(tmp_path / 'l'), state_dir=str(tmp_path))
    lines = config.render_main(paths, 6399, '127.230.3.1', 'pw').splitlines()
    assert lines[3] == 'include "%s/40-replication.conf"' % paths.conf_d
