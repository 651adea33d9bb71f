"""Views of instances, including how ``status`` and ``operating_status`` are computed.

Everything here reads the database only: the taskmanager keeps
``instances.server_status`` current, so no compute call sits on the read path.
"""
import json

from trove.api import links
from trove.common import states
from trove.db import api as db_api
from trove.db import replicas

Task = states.InstanceTask
ServiceStatus = states.ServiceStatus

# Task actions that show as a status of their own while they run.
_TASK_STATUS = {
    Task.REBOOTING: 'REBOOT',
    Task.RESIZING: 'RESIZE',
    Task.UPGRADING: 'UPGRADE',
    Task.PROMOTING: 'PROMOTE',
    Task.EJECTING: 'EJECT',
    Task.DETACHING: 'DETACH',
    Task.RESTART_REQUIRED: 'RESTART_REQUIRED',
    Task.DELETING: 'SHUTDOWN',
}
_SERVER_STATUSES = frozenset({'BUILD', 'ERROR', 'REBOOT', 'RESIZE', 'ACTIVE', 'SHUTDOWN'})


def compute_status(inst, backup_running=False):
    """The API ``status`` of an instance row (upstream section 4.3, DB only).

    ``backup_running``: whether a backup of the instance is NEW/BUILDING (rule 5).
    """
    task = Task.from_code(inst.task_id)
    server = (inst.server_status or '').upper()
    if task.is_error:
        return 'ERROR'
    if task is Task.BUILDING:
        return 'ERROR' if server == 'ERROR' else 'BUILD'
    if task in _TASK_STATUS:
        return _TASK_STATUS[task]
    if backup_running:
        return 'BACKUP'
    if server == 'VERIFY_RESIZE':
        return 'RESIZE'
    return server if server in _SERVER_STATUSES else 'UNKNOWN'


def heartbeat_expired(service_row, now=None):
    """True when the guest's last report is older than agent_heartbeat_expiry."""
    return db_api.guest_silent(service_row, now)


def compute_operating_status(inst, service_row, now=None):
    """``operating_status``: the database service's health once the server is ACTIVE."""
    task = Task.from_code(inst.task_id)
    if task is not Task.NONE or (inst.server_status or '').upper() != 'ACTIVE':
        return ''
    if service_row is None:
        return ServiceStatus.UNKNOWN.api_status
    status = ServiceStatus.from_code(service_row.status_id)
    # A silent guest is not trusted to still be healthy; the row is left
    # alone so the next heartbeat simply brings the instance back.
    if status is not ServiceStatus.RESTART_REQUIRED and heartbeat_expired(service_row, now):
        status = ServiceStatus.FAILED_TIMEOUT_GUESTAGENT
    return status.api_status


class InstanceInfo:
    """An instance row with the rows its views need, loaded by the controller."""

    def __init__(self, inst, datastore=None, version=None, service=None, fault=None,
                 backup_running=False, replica_ids=None, config_name=None):
        self.inst = inst
        # Loaded with the page (db/instance_views.py) or, when None, by the view.
        self.replica_ids = replica_ids
        self.config_name = config_name
        self.backup_running = backup_running
        self.datastore = datastore
        self.version = version
        self.service = service
        self.fault = fault


def _addresses(inst):
    if not inst.hostname:
        return {}
    return {'addresses': [{'address': inst.hostname, 'type': 'private',
                           'network': 'private'}],
            'ip': [inst.hostname]}


def _access(inst):
    if not inst.access:
        return None
    try:
        return json.loads(inst.access)
    except ValueError:
        return None


def summary_view(req, context, info):
    """The instance as shown in ``GET /instances``."""
    inst = info.inst
    tenant = inst.tenant_id
    view = {
        'id': inst.id,
        'name': inst.name,
        'status': compute_status(inst, info.backup_running),
        'operating_status': compute_operating_status(inst, info.service),
        'links': links.create_links(req, tenant, 'instances', inst.id),
        'flavor': {'id': inst.flavor_id,
                   'links': links.create_links(req, tenant, 'flavors', inst.flavor_id)},
        'datastore': {'type': info.datastore.name if info.datastore else None,
                      'version': info.version.name if info.version else None},
        'region': inst.region_id,
    }
    if inst.volume_size:
        view['volume'] = {'size': inst.volume_size}
    access = _access(inst)
    if access is not None:
        view['access'] = access
    view.update(_addresses(inst))
    if context.is_admin:
        view['tenant_id'] = tenant
    return view


def _fault_view(context, fault):
    view = {'message': fault.message, 'created': links.isotime(fault.created)}
    # Details hold tracebacks and host names: operators only.
    if context.is_admin:
        view['details'] = fault.details
    return view


def detail_view(req, context, info):
    """The instance as shown by ``GET /instances/{id}`` and ``/instances/detail``."""
    inst = info.inst
    view = summary_view(req, context, info)
    view['created'] = links.isotime(inst.created)
    view['updated'] = links.isotime(inst.updated)
    view['service_status_updated'] = (
        links.isotime(info.service.updated_at) if info.service else None)
    if info.version is not None:
        view['datastore']['version_number'] = info.version.version or info.version.name
    if info.fault is not None:
        view['fault'] = _fault_view(context, info.fault)
    if inst.configuration_id:
        from trove.db import configurations
        view['configuration'] = {
            'id': inst.configuration_id,
            'name': info.config_name if info.config_name is not None
            else configurations.config_name(inst.configuration_id),
            'links': links.create_links(req, inst.tenant_id, 'configurations',
                                        inst.configuration_id)}
    view.update(_topology(req, inst, info.replica_ids))
    if context.is_admin:
        view['server_id'] = inst.compute_instance_id
        view['volume_id'] = inst.volume_id
    return view


def _topology(req, inst, members=None):
    """``replica_of`` / ``replicas`` links (upstream's shapes); ``members``
    are the replica ids when the caller loaded them."""
    view = {}
    if inst.slave_of_id:
        view['replica_of'] = {'id': inst.slave_of_id, 'links': links.create_links(
            req, inst.tenant_id, 'instances', inst.slave_of_id)}
    if members is None:
        members = replicas.replica_ids(inst.id)
    if members:
        view['replicas'] = [{'id': rid, 'links': links.create_links(
            req, inst.tenant_id, 'instances', rid)} for rid in members]
    return view
