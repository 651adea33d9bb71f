"""When a backup's delete was accepted (a stored task another taskmanager can finish)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('backups') as batch:
        batch.add_column(sa.Column('delete_requested', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('backups') as batch:
        batch.drop_column('delete_requested')
