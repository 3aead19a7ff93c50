"""Alembic environment: runs migrations on the engine handed in by `textopt.db.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from textopt.db.engine import create_db_engine
from textopt.db.registry import load_metadata

config = context.config
target_metadata = load_metadata()


def run_migrations_online() -> None:
    """Run every pending migration in one transaction per migration."""
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        engine = create_db_engine(str(config.get_main_option("sqlalchemy.url")))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
