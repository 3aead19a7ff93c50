"""Alembic, driven from code: the migrations ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from textopt.errors import ConfigError

__all__ = ["alembic_config", "current_revision", "ensure_schema", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to `engine` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser escaping
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to `revision`."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    """The newest revision shipped with this version of textopt."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def ensure_schema(engine: Engine) -> bool:
    """Create the schema of an empty database; refuse one that is behind the code.

    Returns whether the schema was created. A database with tables but no revision (built
    directly from the models) is left as it is.
    """
    revision = current_revision(engine)
    if revision is None:
        if inspect(engine).get_table_names():
            return False
        upgrade(engine)
        return True
    head = head_revision(engine)
    if revision != head:
        raise ConfigError(
            f"the database is at revision {revision} but this version of textopt needs {head}: "
            "run `textopt db upgrade`"
        )
    return False
