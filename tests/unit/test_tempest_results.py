"""The tempest target's table: rows, class fixtures and expected failures."""
from tests.tempest import results

P = results.PREFIX
RESIZE = P + 'test_instance_actions.TestInstanceActionsMariaDB.test_resize[id-fb89,x]'
REBUILD = P + 'test_instance_actions.TestInstanceActionsMariaDB.test_rebuild[id-f7]'
BASIC = P + 'test_instance_basic.TestInstanceBasicPostgreSQL.test_database_access[id-1]'
MYSQL = P + 'test_instance_basic.TestInstanceBasicMySQL.test_database_access[id-2]'
CINDER = P + 'test_cinder_backup.TestCinderBackupMariaDB.test_backup[id-3]'
SSL = P + 'test_instance_ssl.TestInstanceSSLPostgreSQL.test_ssl_mtls[id-4]'

TRACEBACK = '''Traceback (most recent call last):
  File "/x/base_actions.py", line 130, in resize_test
    servers = self.admin_server_client.list_servers(**params)['servers']
tempest.lib.exceptions.EndpointNotFound: Endpoint not found
Details: compute
'''


def rec(test_id, status, reason='', traceback='', seconds=1.0):
    return {'id': test_id, 'status': status, 'seconds': seconds, 'reason': reason,
            'traceback': traceback}


def by_short(rows):
    return {r.short: r for r in rows}


def test_outcomes_and_verdicts():
    rows = results.build_rows([RESIZE, REBUILD, BASIC, MYSQL], [
        rec(RESIZE, 'fail', traceback=TRACEBACK),
        rec(REBUILD, 'fail', traceback=TRACEBACK),
        rec(BASIC, 'success'),
        rec('setUpClass (%stest_instance_basic.TestInstanceBasicMySQL)' % P, 'skip',
            reason='Datastore mysql is not enabled.'),
    ])
    rows = by_short(rows)
    resize = rows['test_instance_actions.TestInstanceActionsMariaDB.test_resize']
    assert resize.verdict == 'expected'
    assert resize.reason == 'EndpointNotFound: Endpoint not found Details: compute'
    assert rows['test_instance_actions.TestInstanceActionsMariaDB.test_rebuild'] \
        .verdict == 'UNEXPECTED'
    assert rows['test_instance_basic.TestInstanceBasicPostgreSQL.test_database_access'] \
        .verdict == 'ok'
    mysql = rows['test_instance_basic.TestInstanceBasicMySQL.test_database_access']
    assert (mysql.status, mysql.verdict) == ('skip', 'expected')
    assert len(rows) == 4   # the skipped setUpClass is its tests' skip, not a row


def test_failed_setup_class_marks_its_tests_not_run():
    rows = results.build_rows([CINDER, BASIC], [
        rec('setUpClass (%stest_cinder_backup.TestCinderBackupMariaDB)' % P, 'fail',
            traceback=TRACEBACK),
        rec('tearDownClass (%stest_instance_basic.TestInstanceBasicPostgreSQL)' % P, 'fail',
            traceback=TRACEBACK),
    ])
    rows = by_short(rows)
    cinder = rows['test_cinder_backup.TestCinderBackupMariaDB.test_backup']
    assert cinder.status == results.NOT_RUN
    assert cinder.reason.startswith('setUpClass failed: EndpointNotFound')
    assert cinder.verdict == 'expected' and cinder.expected.tag == 'cloud'
    assert rows['test_cinder_backup.TestCinderBackupMariaDB.setUpClass'].verdict == 'expected'
    assert rows['test_instance_basic.TestInstanceBasicPostgreSQL.test_database_access'] \
        .reason == 'no result (the run stopped?)'
    assert rows['test_instance_basic.TestInstanceBasicPostgreSQL.tearDownClass'] \
        .verdict == 'UNEXPECTED'


def test_mysql_may_only_skip_and_xpass_is_not_a_failure():
    rows = by_short(results.build_rows([MYSQL, RESIZE], [
        rec(MYSQL, 'fail', traceback=TRACEBACK), rec(RESIZE, 'success')]))
    assert rows['test_instance_basic.TestInstanceBasicMySQL.test_database_access'] \
        .verdict == 'UNEXPECTED'
    assert rows['test_instance_actions.TestInstanceActionsMariaDB.test_resize'] \
        .verdict == 'xpass'
    summary = results.summary(rows.values())
    assert summary == {'UNEXPECTED': 1, 'xpass': 1}
    assert 'test_resize' in results.table(list(rows.values()))


def test_ssl_rows_are_held_to_passing():
    """The key manager is in the catalog: an SSL test that fails is a failure."""
    rows = by_short(results.build_rows([SSL], [rec(SSL, 'fail', traceback=TRACEBACK)]))
    ssl = rows['test_instance_ssl.TestInstanceSSLPostgreSQL.test_ssl_mtls']
    assert ssl.expected is None and ssl.verdict == 'UNEXPECTED'
