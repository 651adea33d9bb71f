"""TLS state of an instance: mode, secret refs, the state before the last change

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('instances') as batch:
        batch.add_column(sa.Column('ssl_mode', sa.String(16), nullable=True))
        batch.add_column(sa.Column('ssl_ref', sa.String(255), nullable=True))
        batch.add_column(sa.Column('ssl_password_ref', sa.String(255), nullable=True))
        batch.add_column(sa.Column('ssl_previous', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('instances') as batch:
        for column in ('ssl_previous', 'ssl_password_ref', 'ssl_ref', 'ssl_mode'):
            batch.drop_column(column)
