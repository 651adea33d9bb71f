"""Highly available replica sets and the record of their failovers

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('replica_sets') as batch:
        batch.add_column(sa.Column('failover', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('synchronous', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        'failovers',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('tenant_id', sa.String(36), nullable=False),
        sa.Column('old_primary_id', sa.String(36), nullable=False, index=True),
        sa.Column('new_primary_id', sa.String(36), nullable=True, index=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('last_seen', sa.DateTime(), nullable=True),
        sa.Column('started', sa.DateTime(), nullable=False),
        sa.Column('promoted', sa.DateTime(), nullable=True),
        sa.Column('ended', sa.DateTime(), nullable=True),
    )


def downgrade():
    op.drop_table('failovers')
    with op.batch_alter_table('replica_sets') as batch:
        batch.drop_column('synchronous')
        batch.drop_column('failover')
