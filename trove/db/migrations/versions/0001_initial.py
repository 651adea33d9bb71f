"""Initial schema: datastores, instances, statuses, faults, conductor last-seen.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'datastores',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False, unique=True),
        sa.Column('default_version_id', sa.String(36), nullable=True))
    op.create_table(
        'datastore_versions',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('datastore_id', sa.String(36), sa.ForeignKey('datastores.id'),
                  nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('image_id', sa.String(255), nullable=True),
        sa.Column('image_tags', sa.String(255), nullable=True),
        sa.Column('packages', sa.String(511), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('manager', sa.String(255), nullable=False),
        sa.Column('version', sa.String(255), nullable=True),
        sa.Column('registry_ext', sa.String(255), nullable=False),
        sa.Column('repl_strategy', sa.String(255), nullable=False),
        sa.UniqueConstraint('datastore_id', 'name', 'version', name='ds_versions'))
    op.create_table(
        'instances',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('hostname', sa.String(255), nullable=True),
        sa.Column('compute_instance_id', sa.String(36), nullable=True),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('task_description', sa.String(255), nullable=True),
        sa.Column('task_start_time', sa.DateTime(), nullable=True),
        sa.Column('volume_id', sa.String(36), nullable=True),
        sa.Column('flavor_id', sa.String(255), nullable=True),
        sa.Column('volume_size', sa.Integer(), nullable=True),
        sa.Column('tenant_id', sa.String(36), nullable=False, index=True),
        sa.Column('server_status', sa.String(64), nullable=True),
        sa.Column('deleted', sa.Boolean(), nullable=False, index=True),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.Column('datastore_version_id', sa.String(36),
                  sa.ForeignKey('datastore_versions.id'), nullable=True),
        sa.Column('configuration_id', sa.String(36), nullable=True),
        sa.Column('slave_of_id', sa.String(36), nullable=True),
        sa.Column('cluster_id', sa.String(36), nullable=True, index=True),
        sa.Column('shard_id', sa.String(36), nullable=True),
        sa.Column('type', sa.String(64), nullable=True),
        sa.Column('region_id', sa.String(255), nullable=True),
        sa.Column('encrypted_key', sa.String(255), nullable=True),
        sa.Column('access', sa.Text(), nullable=True))
    op.create_table(
        'service_statuses',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('instance_id', sa.String(36), nullable=False, index=True),
        sa.Column('status_id', sa.Integer(), nullable=False),
        sa.Column('status_description', sa.String(64), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False))
    op.create_table(
        'instance_faults',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('instance_id', sa.String(36), sa.ForeignKey('instances.id'),
                  nullable=False),
        sa.Column('message', sa.String(255), nullable=False),
        sa.Column('details', sa.Text(), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=True))
    op.create_table(
        'conductor_lastseen',
        sa.Column('instance_id', sa.String(36), primary_key=True),
        sa.Column('method_name', sa.String(36), primary_key=True),
        sa.Column('sent', sa.Double(), nullable=False))
