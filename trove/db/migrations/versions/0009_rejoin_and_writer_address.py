"""The old primary's rejoin after a failover; the writer address of a replica set

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('failovers') as batch:
        batch.add_column(sa.Column('rejoin', sa.String(16), nullable=True))
        batch.add_column(sa.Column('rejoined', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('rejoin_detail', sa.Text(), nullable=True))
        batch.add_column(sa.Column('rejoin_attempts', sa.Integer(), nullable=False,
                                   server_default='0'))
    with op.batch_alter_table('replica_sets') as batch:
        batch.add_column(sa.Column('writer_address', sa.String(255), nullable=True))


def downgrade():
    with op.batch_alter_table('replica_sets') as batch:
        batch.drop_column('writer_address')
    with op.batch_alter_table('failovers') as batch:
        for name in ('rejoin_attempts', 'rejoin_detail', 'rejoined', 'rejoin'):
            batch.drop_column(name)
