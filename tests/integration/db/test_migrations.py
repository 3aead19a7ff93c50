"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from textopt.config import Settings
from textopt.db.engine import create_db_engine
from textopt.db.migrate import current_revision, head_revision, upgrade
from textopt.db.registry import load_metadata


def test_migrations_match_models(settings: Settings) -> None:
    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, load_metadata())
    engine.dispose()
    assert diff == []


def test_migrated_ledger_refuses_updates(settings: Settings) -> None:
    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contacts (id, timezones, attributes, is_customer, "
                "created_at, updated_at) VALUES (1, '[]', '{}', false, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO consent_events (id, contact_id, channel, purpose, action, source, "
                "occurred_at, recorded_at, prev_hash, hash) VALUES (1, 1, 'sms', 'marketing', "
                "'granted', 'cli', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'a', 'b')"
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE consent_events SET action = 'revoked'"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM consent_events"))
    engine.dispose()


def test_the_cli_creates_an_empty_database_and_refuses_an_outdated_one(
    settings: Settings,
) -> None:
    import subprocess
    import sys
    from pathlib import Path

    textopt = str(Path(sys.executable).with_name("textopt"))
    first = subprocess.run(
        [textopt, "contacts", "list", "--json"], capture_output=True, text=True, check=False
    )
    assert first.returncode == 0, first.stderr
    assert "created the database schema" in first.stderr
    engine = create_db_engine(settings.database_url)
    assert current_revision(engine) == head_revision(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    stale = subprocess.run(
        [textopt, "contacts", "list"], capture_output=True, text=True, check=False
    )
    assert stale.returncode == 2
    assert "run `textopt db upgrade`" in stale.stderr


def test_tags_written_with_capitals_become_one_lower_case_tag(settings: Settings) -> None:
    engine = create_db_engine(settings.database_url)
    upgrade(engine, "0001")
    with engine.begin() as connection:
        for contact_id in (1, 2, 3):
            connection.execute(
                text(
                    "INSERT INTO contacts (id, timezones, attributes, is_customer, created_at, "
                    "updated_at) VALUES (:id, '[]', '{}', false, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"id": contact_id},
            )
        pairs = [(1, "VIP"), (1, "vip"), (2, "Vip"), (2, "VIP"), (3, "Été  Promo"), (3, "rdv")]
        for contact_id, tag in pairs:
            connection.execute(
                text("INSERT INTO contact_tags (contact_id, tag) VALUES (:c, :t)"),
                {"c": contact_id, "t": tag},
            )
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT contact_id, tag FROM contact_tags")).all()
    engine.dispose()
    assert sorted(rows) == [(1, "vip"), (2, "vip"), (3, "rdv"), (3, "été promo")]
