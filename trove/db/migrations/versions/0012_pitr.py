"""Point-in-time recovery: the continuous archive of an instance

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'instance_pitr',
        sa.Column('instance_id', sa.String(36), primary_key=True),
        sa.Column('enabled', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('container', sa.String(255), nullable=True),
        sa.Column('prefix', sa.String(255), nullable=True),
        sa.Column('storage_driver', sa.String(32), nullable=True),
        sa.Column('since', sa.DateTime(), nullable=True),
        sa.Column('latest', sa.DateTime(), nullable=True),
        sa.Column('updated', sa.DateTime(), nullable=True),
    )


def downgrade():
    op.drop_table('instance_pitr')
