"""Backup schedules and their retention

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'backup_schedules',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('tenant_id', sa.String(36), nullable=False),
        sa.Column('instance_id', sa.String(36), nullable=False, index=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('pattern', sa.String(255), nullable=False),
        sa.Column('full_every', sa.Integer(), nullable=False, server_default='1'),
        sa.Column('keep_count', sa.Integer(), nullable=True),
        sa.Column('keep_days', sa.Integer(), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('last_slot', sa.DateTime(), nullable=True),
        sa.Column('runs', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('last_backup_id', sa.String(36), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
    )
    with op.batch_alter_table('backups') as batch:
        batch.add_column(sa.Column('schedule_id', sa.String(36), nullable=True))


def downgrade():
    with op.batch_alter_table('backups') as batch:
        batch.drop_column('schedule_id')
    op.drop_table('backup_schedules')
