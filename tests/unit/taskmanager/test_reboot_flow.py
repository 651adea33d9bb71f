"""The mgmt reboot flow: stop, reboot the server, wait for a fresh running report."""
import pytest

from trove.common import exception, states
from trove.conf import CONF
from trove.db import api as db_api
from trove.taskmanager import manager as tm_manager
from trove.taskmanager.flows import restart as restart_flow

from tests.unit.taskmanager import test_action_flows as flows

Task = states.InstanceTask
Status = states.ServiceStatus


@pytest.fixture
def env(db, monkeypatch):
    driver = flows.env.__wrapped__(db, monkeypatch)
    db_api.set_task(driver.instance_id, Task.REBOOTING)
    CONF.set_override('reboot_time_out', 1)
    CONF.set_override('state_change_wait_time', 0)
    CONF.set_override('usage_sleep_time', 0.05)
    yield driver
    for name in ('reboot_time_out', 'state_change_wait_time', 'usage_sleep_time'):
        CONF.clear_override(name)


def _guest_reports_after_reboot(driver, status):
    """The rebooted guest's first heartbeat arrives once the server is back."""
    original = driver.reboot_server

    def reboot(server_id):
        original(server_id)
        db_api.set_service_status(driver.instance_id, status)
    driver.reboot_server = reboot


def test_reboot_stops_reboots_and_waits_for_the_guest(env):
    iid = env.instance_id
    _guest_reports_after_reboot(env, Status.HEALTHY)
    tm_manager.Manager(driver=env).reboot(None, iid)
    assert [c[0] for c in flows.Guest.calls] == ['stop_db']
    assert env.called('reboot_server') == [{'server_id': env.server_id}]
    assert db_api.get_task(db_api.get_instance(iid)) is Task.NONE
    assert db_api.get_fault(iid) is None


def test_reboot_goes_on_when_the_engine_cannot_be_stopped(env):
    iid = env.instance_id
    flows.Guest.fail = {'stop_db': exception.GuestTimeout()}
    _guest_reports_after_reboot(env, Status.RUNNING)
    restart_flow.reboot(None, env, iid)
    assert env.called('reboot_server')
    assert db_api.get_task(db_api.get_instance(iid)) is Task.NONE
    assert db_api.get_fault(iid) is None


def test_reboot_without_a_fresh_report_ends_with_a_fault(env):
    iid = env.instance_id
    # An old HEALTHY row from before the reboot does not count.
    flows.Guest.status = 'shutdown'
    restart_flow.reboot(None, env, iid)
    assert db_api.get_task(db_api.get_instance(iid)) is Task.NONE
    assert 'did not report a running database' in db_api.get_fault(iid).message
    assert Status.from_code(db_api.get_service_status(iid).status_id) is Status.SHUTDOWN


def test_reboot_compute_failure_ends_with_a_fault(env):
    iid = env.instance_id

    def broken(server_id):
        raise exception.ComputeError(detail='hypervisor gone')
    env.reboot_server = broken
    restart_flow.reboot(None, env, iid)
    assert db_api.get_task(db_api.get_instance(iid)) is Task.NONE
    assert 'Reboot failed: ' in db_api.get_fault(iid).message
    assert 'hypervisor gone' in db_api.get_fault(iid).message


def test_reboot_of_a_silent_guest_does_not_wait_for_stop_db(env):
    import datetime

    from trove.db import models
    from trove.db.session import writer
    iid = env.instance_id
    old = models.utcnow() - datetime.timedelta(seconds=CONF.agent_heartbeat_expiry + 5)
    with writer() as session:
        session.query(models.ServiceStatusRow).filter_by(instance_id=iid).update(
            {'updated_at': old})
    _guest_reports_after_reboot(env, Status.HEALTHY)
    restart_flow.reboot(None, env, iid)
    assert flows.Guest.calls == []  # nobody would answer it
    assert env.called('reboot_server') == [{'server_id': env.server_id}]
    assert db_api.get_task(db_api.get_instance(iid)) is Task.NONE
    assert db_api.get_fault(iid) is None


def test_reboot_of_a_dead_agent_does_not_wait_for_stop_db(env):
    iid = env.instance_id
    env.agent_fault = lambda server_id: 'the guest agent died 6 times'
    _guest_reports_after_reboot(env, Status.HEALTHY)
    restart_flow.reboot(None, env, iid)
    assert flows.Guest.calls == []
    assert env.called('reboot_server') == [{'server_id': env.server_id}]
    assert db_api.get_fault(iid) is None


def test_a_delete_does_not_wait_behind_a_reboot_waiting_for_the_guest(env):
    import threading
    import time
    iid = env.instance_id
    CONF.set_override('reboot_time_out', 60)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (restart_flow.reboot(None, env, iid),
                                              done.set()), daemon=True)
    thread.start()
    time.sleep(0.3)
    assert not done.is_set()     # waiting for a running report
    db_api.set_task(iid, Task.DELETING)   # what the API's delete does
    started = time.monotonic()
    assert done.wait(5)
    assert time.monotonic() - started < 2
    assert db_api.get_task(db_api.get_instance(iid)) is Task.DELETING
    assert db_api.get_fault(iid) is None
