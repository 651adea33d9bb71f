"""Point-in-time recovery: the latest restorable time keeps its microseconds

MariaDB restores to sub-second times (the archive's position samples), so
``instance_pitr.latest`` must not be cut to the second: DATETIME(6) on
MySQL/MariaDB (SQLite keeps the fraction already).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'mysql':
        op.alter_column('instance_pitr', 'latest', existing_type=sa.DateTime(),
                        type_=mysql.DATETIME(fsp=6), existing_nullable=True)


def downgrade():
    if op.get_bind().dialect.name == 'mysql':
        op.alter_column('instance_pitr', 'latest', existing_type=mysql.DATETIME(fsp=6),
                        type_=sa.DateTime(), existing_nullable=True)
