"""Replication status of a replica, as its guest last reported it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service_statuses') as batch:
        batch.add_column(sa.Column('replication', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('service_statuses') as batch:
        batch.drop_column('replication')
