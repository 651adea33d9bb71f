"""Replica sets (replication credentials per primary)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'replica_sets',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('primary_id', sa.String(36), nullable=False, unique=True),
        sa.Column('user', sa.String(64), nullable=False),
        sa.Column('password', sa.Text(), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
    )


def downgrade():
    op.drop_table('replica_sets')
