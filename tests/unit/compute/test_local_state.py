"""Unit tests of the local driver's on-disk helpers."""
import json
import os

import pytest

from trove.common import exception
from trove.compute import base
from trove.compute import local_state as state


def test_candidate_addresses_skip_network_broadcast_and_gateway():
    addrs = list(state.candidate_addresses('127.77'))
    assert addrs[0] == '127.77.0.2'
    assert '127.77.0.1' not in addrs
    assert not any(a.endswith('.0') or a.endswith('.255') for a in addrs)
    assert len(addrs) == len(set(addrs)) == 256 * 254 - 1
    assert '127.77.1.1' in addrs


def test_allocate_address_skips_used():
    assert state.allocate_address('127.77', set()) == '127.77.0.2'
    assert state.allocate_address('127.77', {'127.77.0.2', '127.77.0.3'}) == '127.77.0.4'


def test_allocate_address_exhausted():
    used = set(state.candidate_addresses('127.77'))
    with pytest.raises(exception.ComputeError):
        state.allocate_address('127.77', used)


def test_used_addresses_ignores_half_created(tmp_path):
    servers = tmp_path / 'servers'
    (servers / 'a').mkdir(parents=True)
    (servers / 'a' / 'state.json').write_text(json.dumps({'address': '127.77.0.9'}))
    (servers / 'b').mkdir()  # no state.json yet
    (servers / 'c').mkdir()
    (servers / 'c' / 'state.json').write_text('{broken')
    assert state.used_addresses(str(servers)) == {'127.77.0.9'}
    assert state.used_addresses(str(tmp_path / 'missing')) == set()


def test_state_round_trip(tmp_path):
    st = state.ServerState(name='db1', flavor_id='2', image_id=None, volume_id='v1',
                           metadata={'trove_instance_id': 'i1'}, address='127.77.0.2',
                           status=base.ACTIVE, created=state.now_iso(), pid=42, sid=42,
                           start_time=1234)
    path = str(tmp_path / 'state.json')
    state.write_json_atomic(path, st.to_dict())
    assert state.ServerState.from_dict(state.read_json(path)) == st
    # No temporary files are left behind by the atomic write.
    assert os.listdir(tmp_path) == ['state.json']


def test_state_from_dict_ignores_unknown_keys():
    st = state.ServerState.from_dict({'name': 'n', 'flavor_id': '1', 'image_id': None,
                                      'volume_id': None, 'future_field': 1})
    assert st.name == 'n' and st.status == base.BUILD


def test_read_json_missing(tmp_path):
    assert state.read_json(str(tmp_path / 'nope.json')) is None


@pytest.mark.parametrize('path,expected', [
    ('/etc/trove/conf.d/guest_info.conf', 'etc/trove/conf.d/guest_info.conf'),
    ('/a//b/./c', 'a/b/c'),
])
def test_resolve_in_root(tmp_path, path, expected):
    assert state.resolve_in_root(str(tmp_path), path) == str(tmp_path / expected)


@pytest.mark.parametrize('path', [
    '../etc/passwd', '/../etc/passwd', '/etc/../../x', 'etc/x', '/', '/etc/..', '',
])
def test_resolve_in_root_rejects_escapes(tmp_path, path):
    with pytest.raises(exception.InvalidValue):
        state.resolve_in_root(str(tmp_path), path)


@pytest.mark.parametrize('ident,ok', [
    ('0b3c6f3e-2b9c-4bb9-9b43-4c64b05e5c7a', True), ('abc', True),
    ('..', False), ('../x', False), ('a/b', False), ('', False), (None, False),
])
def test_valid_id(ident, ok):
    assert state.valid_id(ident) is ok


def test_builtin_flavors(tmp_path):
    flavors = state.load_flavors(str(tmp_path))
    assert [f.id for f in flavors] == ['1', '2', '3', '4', '5', '6']
    assert flavors[0].name == 'm1.tiny' and flavors[0].ram == 512 and flavors[0].vcpus == 1
    assert max(f.ram for f in flavors) == 8192
    assert flavors[0].to_dict() == {'id': '1', 'name': 'm1.tiny', 'ram': 512, 'vcpus': 1,
                                    'disk': 5, 'ephemeral': 0}


def test_flavor_file_overrides(tmp_path):
    (tmp_path / 'flavors.json').write_text(json.dumps(
        [{'id': 10, 'name': 'big', 'ram': 16384, 'vcpus': 8, 'disk': 100}]))
    assert state.load_flavors(str(tmp_path)) == [base.Flavor('10', 'big', 16384, 8, 100)]
    (tmp_path / 'flavors.json').write_text(json.dumps(
        {'flavors': [{'id': '7', 'name': 's', 'ram': 256, 'vcpus': 1, 'disk': 1}]}))
    assert [f.id for f in state.load_flavors(str(tmp_path))] == ['7']


def test_bad_flavor_file(tmp_path):
    (tmp_path / 'flavors.json').write_text('[{"id": 1}]')
    with pytest.raises(exception.ComputeError):
        state.load_flavors(str(tmp_path))


def test_lock_released_after_use(tmp_path):
    with state.locked(str(tmp_path)):
        pass
    with state.locked(str(tmp_path)):
        assert (tmp_path / 'lock').exists()
