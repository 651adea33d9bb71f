"""The taskmanager running a stored task (several taskmanagers)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('task_requests') as batch:
        batch.add_column(sa.Column('owner', sa.String(255), nullable=True))


def downgrade():
    with op.batch_alter_table('task_requests') as batch:
        batch.drop_column('owner')
