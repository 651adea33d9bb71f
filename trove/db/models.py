"""Declarative models of the infrastructure database.

Every column is listed here; alembic migrations in ``migrations/`` create the
same schema (a unit test compares them).
"""
import datetime

from sqlalchemy import (Boolean, DateTime, Double, ForeignKey, Integer, String,
                        Text, UniqueConstraint, false)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow():
    """Naive UTC now, the form every timestamp column stores."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Base of all trove tables."""

    def to_dict(self):
        return {c.name: getattr(self, c.key) for c in self.__table__.columns}


class Datastore(Base):
    __tablename__ = 'datastores'
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    default_version_id: Mapped[str | None] = mapped_column(String(36))


class DatastoreVersion(Base):
    __tablename__ = 'datastore_versions'
    __table_args__ = (UniqueConstraint('datastore_id', 'name', 'version',
                                       name='ds_versions'),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    datastore_id: Mapped[str] = mapped_column(String(36), ForeignKey('datastores.id'))
    name: Mapped[str] = mapped_column(String(255))
    image_id: Mapped[str | None] = mapped_column(String(255))
    image_tags: Mapped[str | None] = mapped_column(String(255))
    packages: Mapped[str | None] = mapped_column(String(511))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    manager: Mapped[str] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(255))
    registry_ext: Mapped[str] = mapped_column(String(255), default='')
    repl_strategy: Mapped[str] = mapped_column(String(255), default='')


class Instance(Base):
    __tablename__ = 'instances'
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow,
                                                       onupdate=utcnow)
    name: Mapped[str] = mapped_column(String(255))
    hostname: Mapped[str | None] = mapped_column(String(255))
    compute_instance_id: Mapped[str | None] = mapped_column(String(36))
    task_id: Mapped[int] = mapped_column(Integer)
    task_description: Mapped[str | None] = mapped_column(String(255))
    task_start_time: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    volume_id: Mapped[str | None] = mapped_column(String(36))
    flavor_id: Mapped[str | None] = mapped_column(String(255))
    volume_size: Mapped[int | None] = mapped_column(Integer)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)
    server_status: Mapped[str | None] = mapped_column(String(64))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    datastore_version_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey('datastore_versions.id'))
    configuration_id: Mapped[str | None] = mapped_column(String(36))
    slave_of_id: Mapped[str | None] = mapped_column(String(36))
    cluster_id: Mapped[str | None] = mapped_column(String(36), index=True)
    shard_id: Mapped[str | None] = mapped_column(String(36))
    type: Mapped[str | None] = mapped_column(String(64))
    region_id: Mapped[str | None] = mapped_column(String(255))
    encrypted_key: Mapped[str | None] = mapped_column(String(255))
    access: Mapped[str | None] = mapped_column(Text)
    # TLS (api/controllers/ssl.py): mode (None = off), the Barbican refs of
    # the PKCS#12 container and its password, and the JSON of the state
    # before the last change (for rollback; None = nothing to roll back to).
    ssl_mode: Mapped[str | None] = mapped_column(String(16))
    ssl_ref: Mapped[str | None] = mapped_column(String(255))
    ssl_password_ref: Mapped[str | None] = mapped_column(String(255))
    ssl_previous: Mapped[str | None] = mapped_column(Text)


class ServiceStatusRow(Base):
    __tablename__ = 'service_statuses'
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    status_id: Mapped[int] = mapped_column(Integer)
    status_description: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    # JSON {following, lag, healthy, broken, error} of a replica's stream
    # (guestagent/replication_report.py); None on a primary or standalone.
    replication: Mapped[str | None] = mapped_column(Text)


class InstanceFault(Base):
    __tablename__ = 'instance_faults'
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(36), ForeignKey('instances.id'))
    # Text, not String(255): a cut fault hides the cause (issue 8, item 9).
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class TaskRequest(Base):
    """The long task an instance runs, kept until it ends (see db/task_requests.py).

    ``payload`` is the task's arguments as JSON encrypted with the master key
    (a create carries user and root passwords); ``refund`` is the quota
    charged for the task (JSON deltas) that is given back if it is abandoned.
    ``owner`` is the coordination member id of the taskmanager running it
    (None until one starts it, and on a single-host deployment).
    """

    __tablename__ = 'task_requests'
    instance_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    action: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    refund: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    owner: Mapped[str | None] = mapped_column(String(255))


class ReplicaSet(Base):
    """Replication credentials of one primary and its replicas (db/replicas.py).

    ``password`` is encrypted with the controller master key; the API never
    shows either field.  ``primary_id`` follows promotions.  ``failover``:
    the set is highly available (a replica takes over from a failed primary
    by itself); ``synchronous``: a commit is acknowledged once a replica has it.
    """

    __tablename__ = 'replica_sets'
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    primary_id: Mapped[str] = mapped_column(String(36), unique=True)
    user: Mapped[str] = mapped_column(String(64))
    password: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    failover: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    synchronous: Mapped[bool] = mapped_column(Boolean, default=False,
                                              server_default=false())
    # The address that leads to the primary whoever it is (flows/writer.py).
    writer_address: Mapped[str | None] = mapped_column(String(255))


class Failover(Base):
    """One automatic failover of a replica set (db/failovers.py).

    ``last_seen``: the old primary's last heartbeat; ``started``: when the
    failure was detected; ``promoted``: when the new primary took writes;
    ``state`` running | completed | failed (``detail`` says why).  After a
    completed one the old primary rejoins the set (taskmanager/rejoin.py):
    ``rejoin`` is None while that is pending, then rejoined | failed |
    not needed, ``rejoin_detail`` says why.
    """

    __tablename__ = 'failovers'
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    old_primary_id: Mapped[str] = mapped_column(String(36), index=True)
    new_primary_id: Mapped[str | None] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    last_seen: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    started: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    promoted: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    ended: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    rejoin: Mapped[str | None] = mapped_column(String(16))
    rejoined: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    rejoin_detail: Mapped[str | None] = mapped_column(Text)
    rejoin_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default='0')


class ConductorLastSeen(Base):
    __tablename__ = 'conductor_lastseen'
    instance_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    method_name: Mapped[str] = mapped_column(String(36), primary_key=True)
    sent: Mapped[float] = mapped_column(Double)


class DatastoreVersionMetadata(Base):
    __tablename__ = 'datastore_version_metadata'
    __table_args__ = (UniqueConstraint('datastore_version_id', 'key', 'value',
                                       name='UQ_datastore_version_metadata_dsv_key_value'),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    datastore_version_id: Mapped[str] = mapped_column(
        String(36), ForeignKey('datastore_versions.id', ondelete='CASCADE'))
    key: Mapped[str] = mapped_column(String(128))
    value: Mapped[str | None] = mapped_column(String(128))
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class DatastoreConfigurationParameter(Base):
    __tablename__ = 'datastore_configuration_parameters'
    __table_args__ = (UniqueConstraint('datastore_version_id', 'name',
                                       name='UQ_datastore_configuration_parameters_dsv_name'),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    datastore_version_id: Mapped[str] = mapped_column(
        String(36), ForeignKey('datastore_versions.id'))
    restart_required: Mapped[bool] = mapped_column(Boolean, default=False)
    max_size: Mapped[str | None] = mapped_column(String(40))
    min_size: Mapped[str | None] = mapped_column(String(40))
    data_type: Mapped[str] = mapped_column(String(128))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class Configuration(Base):
    __tablename__ = 'configurations'
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(256))
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)
    datastore_version_id: Mapped[str] = mapped_column(
        String(36), ForeignKey('datastore_versions.id'))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow,
                                                       onupdate=utcnow)


class ConfigurationParameter(Base):
    __tablename__ = 'configuration_parameters'
    configuration_id: Mapped[str] = mapped_column(
        String(36), ForeignKey('configurations.id'), primary_key=True)
    configuration_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    configuration_value: Mapped[str | None] = mapped_column(String(128))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class Backup(Base):
    """A backup; ``delete_requested`` is when a delete was accepted, kept
    until the row is deleted so another taskmanager can finish it."""

    __tablename__ = 'backups'
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(512))
    location: Mapped[str | None] = mapped_column(String(1024))
    backup_type: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[float | None] = mapped_column(Double)
    tenant_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(32))
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True)
    checksum: Mapped[str | None] = mapped_column(String(64))
    backup_timestamp: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow,
                                                       onupdate=utcnow)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    parent_id: Mapped[str | None] = mapped_column(String(36))
    datastore_version_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey('datastore_versions.id'))
    storage_driver: Mapped[str | None] = mapped_column(String(32))
    delete_requested: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    # The backup schedule that took it (db/backup_schedules.py), or None.
    schedule_id: Mapped[str | None] = mapped_column(String(36))


class BackupSchedule(Base):
    """A backup schedule of an instance (db/backup_schedules.py).

    ``pattern`` a cron expression (croniter: 5 fields, or 6 with seconds
    last); every ``full_every``-th run is a full backup, the others
    incremental; retention keeps the newest ``keep_count`` and those younger
    than ``keep_days`` (either may be None).  ``last_slot`` is the newest
    slot that ran (claimed once, whatever the number of taskmanagers).
    """

    __tablename__ = 'backup_schedules'
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    instance_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(255))
    pattern: Mapped[str] = mapped_column(String(255))
    full_every: Mapped[int] = mapped_column(Integer, default=1, server_default='1')
    keep_count: Mapped[int | None] = mapped_column(Integer)
    keep_days: Mapped[int | None] = mapped_column(Integer)
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    last_slot: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    runs: Mapped[int] = mapped_column(Integer, default=0, server_default='0')
    last_backup_id: Mapped[str | None] = mapped_column(String(36))
    last_error: Mapped[str | None] = mapped_column(Text)


class BackupStrategy(Base):
    __tablename__ = 'backup_strategy'
    __table_args__ = (UniqueConstraint('tenant_id', 'instance_id',
                                       name='UQ_backup_strategy_tenant_id_instance_id'),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    instance_id: Mapped[str] = mapped_column(String(36), default='')
    backend: Mapped[str] = mapped_column(String(255))
    swift_container: Mapped[str | None] = mapped_column(String(255))
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class Quota(Base):
    __tablename__ = 'quotas'
    __table_args__ = (UniqueConstraint('tenant_id', 'resource',
                                       name='UQ_quotas_tenant_id_resource'),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    resource: Mapped[str] = mapped_column(String(255))
    hard_limit: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class QuotaUsage(Base):
    __tablename__ = 'quota_usages'
    __table_args__ = (UniqueConstraint('tenant_id', 'resource',
                                       name='UQ_quota_usages_tenant_id_resource'),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36), index=True)
    resource: Mapped[str] = mapped_column(String(255))
    in_use: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class Reservation(Base):
    __tablename__ = 'reservations'
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    usage_id: Mapped[str] = mapped_column(String(36), ForeignKey('quota_usages.id'))
    delta: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(36))
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    updated: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)


class RootEnabledHistory(Base):
    __tablename__ = 'root_enabled_history'
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user: Mapped[str | None] = mapped_column(String(255))
    created: Mapped[datetime.datetime] = mapped_column(DateTime, default=utcnow)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class InstancePitr(Base):
    """The continuous archive of an instance (db/pitr.py).

    ``enabled`` is what the user asked for; ``since`` is when the guest
    started archiving into ``container``/``prefix`` (None while it is not
    archiving: backups taken before it cannot start a restore), ``latest``
    the newest shipped time its heartbeats reported.
    """

    __tablename__ = 'instance_pitr'
    instance_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    container: Mapped[str | None] = mapped_column(String(255))
    prefix: Mapped[str | None] = mapped_column(String(255))
    storage_driver: Mapped[str | None] = mapped_column(String(32))
    since: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    # Microseconds kept (migration 0013): MariaDB's is a sub-second time.
    latest: Mapped[datetime.datetime | None] = mapped_column(
        DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb'))
    updated: Mapped[datetime.datetime | None] = mapped_column(DateTime, default=utcnow)
