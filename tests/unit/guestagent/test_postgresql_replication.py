"""PostgreSQL replication helpers: LSN ordering, pg_hba and standby config."""
import pytest

from trove.common import exception
from trove.common import positions
from trove.guestagent.engines.postgresql import config
from trove.guestagent.engines.postgresql import replication as repl


def test_lsn_values_order_as_64_bit_numbers():
    assert positions.lsn_value('0/3000060') == 0x3000060
    assert positions.lsn_value('1/0') == 1 << 32
    assert positions.lsn_value('0/FFFFFFFF') < positions.lsn_value('1/0')
    for bad in ('', '0-1', '0/xyz', None, "0/1'; --"):
        with pytest.raises(exception.BadRequest):
            positions.lsn_value(bad)


@pytest.mark.parametrize('a, b, expected', [
    ('0/3000060', '0/3000060', 0), ('0/3000061', '0/3000060', 1),
    ('0/A', '0/9', 1), ('0/FFFFFFFF', '1/0', -1)])
def test_compare(a, b, expected):
    assert repl.PostgreSQLReplication.compare({'lsn': a}, {'lsn': b}) == expected


def test_replica_addresses_in_pg_hba():
    assert repl.cidr_of(None) == '127.0.0.0/8'
    # A local-driver replica on 127.230.2.2 connects from 127.0.0.1.
    assert repl.cidr_of('127.230.2.2') == '127.0.0.0/8'
    assert repl.cidr_of('10.0.0.7') == '10.0.0.7/32'
    assert repl.cidr_of('10.1.0.0/16') == '10.1.0.0/16'
    assert repl.cidr_of('fd00::7') == 'fd00::7/128'
    with pytest.raises(exception.BadRequest):
        repl.cidr_of('10.0.0.7 trust')
    rules = [line.split() for line in config.render_hba(
        'os_admin', [('os_repl', '10.0.0.7/32')]).splitlines() if line.startswith('host')]
    assert rules[-1] == ['host', 'replication', 'os_repl', '10.0.0.7/32', 'scram-sha-256']


def test_passfile_escapes_colons_and_backslashes():
    assert repl.pgpass_line('os_repl', 'a:b\\c') == '*:*:*:os_repl:a\\:b\\\\c\n'


def test_standby_conf_names_the_passfile_never_the_password():
    text = repl.render_replication_conf('/s/replication.pgpass', ('10.0.0.1', 5432, 'u'),
                                        slot='replica_1', read_only=True)
    lines = text.splitlines()
    assert 'default_transaction_read_only = on' in lines
    assert ("primary_conninfo = 'host=10.0.0.1 port=5432 user=u "
            "passfile=/s/replication.pgpass application_name=trove connect_timeout=5'"
            in lines)
    assert "primary_slot_name = 'replica_1'" in lines
    primary = repl.render_replication_conf('/s/p').splitlines()
    assert primary[1:] == ['default_transaction_read_only = off']


def test_slot_names_are_checked():
    assert repl.slot_name('replica_1') == 'replica_1'
    for bad in ('Replica', 'a-b', '', 'x' * 64, None):
        with pytest.raises(exception.BadRequest):
            repl.slot_name(bad)


def test_main_conf_includes_replication_and_keeps_wal_hints(tmp_path):
    paths = config.Paths(datadir=str(tmp_path / 'd'), run_dir=str(tmp_path / 'r'),
                         log_dir=str(tmp_path / 'l'), state_dir=str(tmp_path))
    lines = config.render_main(paths, 5499, '127.230.2.1').splitlines()
    assert lines[3].endswith("40-replication.conf'")
    assert 'wal_log_hints = on' in lines


def test_synchronous_mode_waits_for_any_one_standby():
    lines = repl.render_replication_conf('/s/p', synchronous=True).splitlines()
    assert "synchronous_standby_names = 'ANY 1 (*)'" in lines
    assert 'synchronous_commit = on' in lines
    assert not [x for x in repl.render_replication_conf('/s/p').splitlines()
                if x.startswith('synchronous')]
