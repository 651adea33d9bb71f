"""Task requests (resumable long tasks); full-length instance faults

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'task_requests',
        sa.Column('instance_id', sa.String(36), primary_key=True),
        sa.Column('action', sa.String(64), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('refund', sa.Text(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table('instance_faults') as batch:
        batch.alter_column('message', existing_type=sa.String(255), type_=sa.Text(),
                           existing_nullable=False)


def downgrade():
    with op.batch_alter_table('instance_faults') as batch:
        batch.alter_column('message', existing_type=sa.Text(), type_=sa.String(255),
                           existing_nullable=False)
    op.drop_table('task_requests')
