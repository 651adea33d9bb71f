"""Alembic migrations of the infrastructure database (``trove-manage db_sync``)."""
import os

from alembic import command
from alembic.config import Config

from trove.db import session

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), 'migrations')


def _config():
    cfg = Config()
    cfg.set_main_option('script_location', MIGRATIONS_DIR)
    return cfg


def upgrade(revision='head'):
    """Bring the schema of [database] connection up to ``revision``."""
    cfg = _config()
    with session.get_engine().begin() as connection:
        cfg.attributes['connection'] = connection
        command.upgrade(cfg, revision)


def current_revision():
    from alembic.runtime.migration import MigrationContext
    with session.get_engine().connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision():
    """The newest revision shipped with this code."""
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(_config()).get_current_head()
