"""Build an instance: volume, server, access rules, guest queue, prepare, wait."""
import datetime
import time
from dataclasses import dataclass, field

from oslo_log import log as logging

from trove.backup import info as backup_info
from trove.common import exception
from trove.common import states
from trove.common import template
from trove.common.prepare import PrepareRequest
from trove.conf import CONF
from trove.db import api as db_api
from trove.db import task_requests
from trove.guestagent import rpcapi as guest_rpcapi
from trove.taskmanager import build_watch, guest_files, spares
from trove.taskmanager.flows import access

LOG = logging.getLogger(__name__)
Task = states.InstanceTask
Status = states.ServiceStatus


class BuildError(Exception):
    """Ends a build in ``task`` with ``message`` as the instance fault."""

    def __init__(self, task, message):
        super().__init__(message)
        self.task = task
        self.message = message


@dataclass
class CreateRequest:
    """What the API asked for (the ``create_instance`` cast)."""

    instance_id: str
    flavor: dict
    datastore_manager: str
    ds_version: str
    image_id: str | None = None
    databases: list = field(default_factory=list)
    users: list = field(default_factory=list)
    volume_size: int | None = None
    root_password: str | None = None
    overrides: dict = field(default_factory=dict)
    backup_id: str | None = None
    pitr: dict | None = None  # restore_time + the source's archive (archive/restore.py)
    replica: bool = False   # set by flows/replication.py (PrepareRequest.replica)


def _fail(instance_id, task, message, driver=None):
    """Put a failed build into its terminal error state, unless it is being deleted.

    The server's console output goes into the fault's details (operators
    see them): the cause of a failed prepare is often only there.
    """
    # The fault goes with the task change: a reader never sees the ERROR
    # without it (the console is read first, it can take a while).
    if db_api.set_task(instance_id, task, expected=Task.BUILDING, fault=message,
                       fault_details=_console(driver, instance_id)):
        LOG.error('Build of %s failed: %s', instance_id, message)


def _console(driver, instance_id):
    try:
        server_id = db_api.get_instance(instance_id).compute_instance_id
        if driver is None or not server_id:
            return None
        return driver.console_output(server_id)
    except Exception:
        LOG.warning('No console output of %s', instance_id, exc_info=True)
        return None


def _volume(driver, req, inst):
    """The instance's volume: the recorded one, or a new one (None: no volume)."""
    if not req.volume_size:
        return None
    if inst.volume_id:
        return inst.volume_id
    try:
        volume_id = driver.create_volume('trove-%s' % inst.id, req.volume_size).id
    except Exception as exc:
        raise BuildError(Task.BUILDING_ERROR_VOLUME, 'Volume creation failed: %s' % exc)
    db_api.update_instance(inst.id, volume_id=volume_id)
    return volume_id


def _new_server(driver, req, inst, files):
    """Create the volume and boot a server from scratch; returns the server."""
    volume_id = _volume(driver, req, inst)
    try:
        return driver.create_server(
            name=inst.name, flavor_id=req.flavor['id'], image_id=req.image_id,
            volume_id=volume_id, files=files, userdata=None,
            metadata={'trove_instance_id': inst.id, 'trove_project_id': inst.tenant_id})
    except Exception as exc:
        raise BuildError(Task.BUILDING_ERROR_SERVER, 'Server creation failed: %s' % exc)


def _existing_server(driver, inst):
    """The server an earlier run of this build booted, or None.

    A build redone after a taskmanager crash finds it by the recorded id,
    or by its ``trove_instance_id`` metadata when the crash came between
    the boot and recording the id.
    """
    if inst.compute_instance_id:
        try:
            return driver.get_server(inst.compute_instance_id)
        except exception.ComputeInstanceNotFound:
            LOG.warning('Server %s of %s is gone; booting a new one',
                        inst.compute_instance_id, inst.id)
            return None
    for server in driver.list_servers():
        if (server.metadata or {}).get('trove_instance_id') == inst.id:
            return server
    return None


def _boot(context, driver, req, inst):
    """Find, claim or create the server; returns (server, guest).  Idempotent."""
    guest = guest_rpcapi.GuestAPI(context, inst.id)
    # The queue must exist before the guest boots or the prepare cast is
    # lost; it is durable, so it also outlives a broker restart.
    guest.create_queue()
    server = _existing_server(driver, inst)
    if server is not None:
        LOG.info('Build of %s goes on with its server %s', inst.id, server.id)
        if server.volume_id and not inst.volume_id:
            db_api.update_instance(inst.id, volume_id=server.volume_id)
    else:
        files = guest_files.injected_files(inst, req.ds_version, req.datastore_manager)
        claimed = spares.claim(driver, req, inst, files)
        if claimed:
            server, volume_id = claimed
            db_api.update_instance(inst.id, volume_id=volume_id)
            LOG.info('Instance %s runs on spare server %s', inst.id, server.id)
        else:
            server = _new_server(driver, req, inst, files)
    address = server.addresses[0]['address'] if server.addresses else None
    db_api.update_instance(inst.id, compute_instance_id=server.id,
                           server_status=server.status, hostname=address)
    if server.status == 'ERROR':
        raise BuildError(Task.BUILDING_ERROR_SERVER, 'Server %s went to ERROR' % server.id)
    return server, guest


def _apply_access(driver, inst, server, manager):
    """Open the engine's port to the instance's allowed CIDRs (nova: a security group)."""
    try:
        access.apply(driver, inst, server.id, manager)
    except Exception as exc:
        raise BuildError(Task.BUILDING_ERROR_SEC_GROUP,
                         'Security group setup failed: %s' % exc)


def _prepare(guest, req):
    config = template.render_config(req.datastore_manager, int(req.flavor['ram']))
    guest.prepare(request=PrepareRequest(
        memory_mb=int(req.flavor['ram']), databases=req.databases, users=req.users,
        config_contents=config, root_password=req.root_password,
        overrides=req.overrides, ds_version=req.ds_version,
        backup_info=_backup_info(req), replica=req.replica))


def _backup_info(req):
    if not req.backup_id:
        return None
    info = backup_info.restore_info(req.backup_id)
    if req.pitr:
        info['pitr'] = req.pitr
    return info


def complete(instance_id):
    """The build is done: task NONE, server ACTIVE (unless it was deleted meanwhile)."""
    if db_api.set_task(instance_id, Task.NONE, expected=Task.BUILDING):
        db_api.update_instance(instance_id, server_status='ACTIVE')
        return True
    return False


def wait_for_guest(instance_id, deadline, finish=True, resend=None):
    """Wait on the service status until the guest is up, fails, or time runs out.

    With ``finish`` the build is completed once the guest runs; without, the
    caller still has work to do in BUILDING (a replica attaches first).
    Returns True when the guest runs and the instance is still building.
    ``resend()`` is called every ``prepare_resend_interval`` seconds while
    the guest has not reported running: an agent restarted (by its
    supervisor or systemd) in the middle of a prepare has lost the request,
    and a guest that has it ignores a repeated one.  The rows are read by
    build_watch.BOARD, one query per tick for all the builds waiting.
    """
    last_send = time.time()
    tick = 0
    failed_at = None    # when the guest's failure status was first seen without its fault
    with build_watch.BOARD.watch(instance_id):
        while True:
            tick, seen = build_watch.BOARD.next(instance_id, tick)
            verdict = _verdict(instance_id, seen) if seen is not None else _WAITING
            if verdict is _RUNNING:
                return complete(instance_id) if finish else True
            if verdict is _STOPPED:
                return False
            if verdict is _FAILED:
                failed_at = failed_at or time.time()
                _fail_with_guest_fault(instance_id, seen, time.time() - failed_at)
            if resend is not None and time.time() - last_send >= CONF.prepare_resend_interval:
                LOG.info('Instance %s has not reported running yet; sending prepare again',
                         instance_id)
                resend()
                last_send = time.time()
            if time.time() >= deadline:
                db_api.set_service_status(instance_id, Status.FAILED_TIMEOUT_GUESTAGENT,
                                          touch=False)
                raise BuildError(Task.BUILDING_ERROR_TIMEOUT_GA,
                                 'The guest agent did not report within %d seconds.'
                                 % CONF.usage_timeout)


_RUNNING, _WAITING, _STOPPED, _FAILED = 'running', 'waiting', 'stopped', 'failed'
# A guest whose prepare fails casts its fault, then its status.  The
# conductor runs casts on several threads, so the status may be stored
# first: the build gives the fault this long to arrive before it fails with
# the bare status (which would also replace the guest's fault).
FAULT_WAIT = 10.0


def _fail_with_guest_fault(instance_id, seen, waited):
    """BuildError with the guest's fault; returns while it may still come."""
    fault = db_api.get_fault(instance_id)
    if fault is None and waited < FAULT_WAIT:
        return
    status = Status.from_code(seen.status_id)
    raise BuildError(Task.BUILDING_ERROR_SERVER, fault.message if fault else
                     'Guest reported status %r' % status.description)


def _verdict(instance_id, seen):
    """_RUNNING, _WAITING, _STOPPED (the instance left BUILDING or vanished)
    or _FAILED (the guest reported a failure) from one read of its rows."""
    if seen.task_id is None:
        LOG.info('Instance %s vanished during build', instance_id)
        return _STOPPED
    task = Task.from_code(seen.task_id)
    if task != Task.BUILDING:
        LOG.info('Instance %s left BUILDING (%s); build stops', instance_id, task.name)
        return _STOPPED
    status = Status.from_code(seen.status_id) if seen.status_id is not None else Status.UNKNOWN
    if status in states.RUNNING_SERVICE:
        LOG.info('Instance %s is %s', instance_id, status.description)
        return _RUNNING
    if status not in states.WAITING_SERVICE:
        return _FAILED
    return _WAITING


def _deadline(inst):
    """``usage_timeout`` after the build started (a redone build keeps the start)."""
    started = (inst.task_start_time.replace(tzinfo=datetime.UTC).timestamp()
               if inst.task_start_time else time.time())
    return max(time.time() + CONF.usage_sleep_time, started + CONF.usage_timeout)


def create_instance(context, driver, req, after_running=None, action='create_instance'):
    """Run the whole build; always ends with the instance out of BUILDING.

    Every step is idempotent, so a build redone from its stored request
    (after a taskmanager crash) goes on from where the crash left it.
    ``after_running(inst)`` is more work done once the guest runs, before
    the build completes (a replica attaches to its primary); it raises
    BuildError to fail the build.  ``action`` names the stored request.
    """
    try:
        inst = db_api.get_instance(req.instance_id)
        if db_api.get_task(inst) != Task.BUILDING:
            LOG.info('Instance %s is no longer building; nothing to do', inst.id)
            return
        deadline = _deadline(inst)
        server, guest = _boot(context, driver, req, inst)
        # prepare waits in the guest's queue while a cloud server still
        # boots, which the access step may have to wait for.  A repeated
        # prepare is ignored by a guest that already ran one.
        _prepare(guest, req)
        _apply_access(driver, inst, server, req.datastore_manager)
        running = wait_for_guest(inst.id, deadline, finish=after_running is None,
                                 resend=lambda: _prepare(guest, req))
        if running and after_running is not None:
            after_running(db_api.get_instance(inst.id))
            complete(inst.id)
    except BuildError as exc:
        _fail(req.instance_id, exc.task, exc.message, driver)
    except Exception as exc:
        LOG.exception('Unexpected error building %s', req.instance_id)
        _fail(req.instance_id, Task.BUILDING_ERROR_SERVER, 'Build failed: %s' % exc, driver)
    finally:
        task_requests.finish(req.instance_id, action=action)
