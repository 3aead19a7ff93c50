"""Shared fixtures: every database test runs on SQLite and on the real PostgreSQL.

Each test gets its own empty database: a fresh SQLite file, or a fresh PostgreSQL schema
(dropped afterwards). If PostgreSQL cannot be reached, its half is skipped with the reason,
never passed silently (and `TEXTOPT_REQUIRE_POSTGRES=1`, set by CI, turns that into a
failure).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from tests.factories.keys import TEST_REGION, TEST_SECRET

from textopt.config import Settings, reset_settings
from textopt.db.engine import create_db_engine, session_factory
from textopt.db.registry import load_metadata

POSTGRES_URL = os.environ.get(
    "TEXTOPT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_unreachable() -> str | None:
    engine = create_db_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_URL} unreachable: {type(exc).__name__}: {exc}"
    finally:
        engine.dispose()
    return None


_PG_PROBE: list[str | None] = []  # filled once per run


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None (probed once per run)."""
    if not _PG_PROBE:
        _PG_PROBE.append(_postgres_unreachable())
    return _PG_PROBE[0]


def _schema_url(schema: str) -> str:
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (no tables) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    problem = postgres_problem()
    if problem:
        if os.environ.get("TEXTOPT_REQUIRE_POSTGRES") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_db_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _schema_url(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings pointing at the test database, also exported to the environment for CLI runs."""
    # uploads in the test's own folder: an erasure or a purge never touches another test's
    uploads = str(tmp_path / "uploads")
    values = Settings(
        database_url=db_url, secret_key=TEST_SECRET, default_region=TEST_REGION, upload_dir=uploads
    )
    monkeypatch.setenv("TEXTOPT_UPLOAD_DIR", uploads)
    monkeypatch.setenv("TEXTOPT_DATABASE_URL", db_url)
    monkeypatch.setenv("TEXTOPT_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("TEXTOPT_DEFAULT_REGION", TEST_REGION)
    monkeypatch.chdir(tmp_path)
    reset_settings(values)
    yield values
    reset_settings(None)
    _dispose_cli_engines()


def _dispose_cli_engines() -> None:
    """Close the connection pools the CLI opened during a test (each test has its own
    database URL, so a pool left open is never reused and only holds connections)."""
    from textopt.cli import common

    for cached in common._engines.values():
        cached.dispose()
    common._engines.clear()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on a database with every table created from the models."""
    eng = create_db_engine(settings.database_url)
    load_metadata().create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database; tests commit as the application would."""
    with session_factory(engine)() as s:
        yield s


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    """Where the sandbox provider writes each acceptance (to count duplicates)."""
    return tmp_path / "sandbox.jsonl"


@pytest.fixture
def campaign_settings(
    settings: Settings, journal: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings with a fast, failure-free sandbox that journals every acceptance."""
    sandbox = {
        "kind": "sandbox",
        "rate": 10_000,
        "receipt_delay": 0.01,
        "failure_rate": 0,
        "expiry_rate": 0,
        "journal": str(journal),
    }
    values = settings.model_copy(
        update={"providers": {"sandbox": sandbox}, "brand_name": "Boutique"}
    )
    monkeypatch.setenv("TEXTOPT_PROVIDERS", json.dumps(values.providers))
    monkeypatch.setenv("TEXTOPT_BRAND_NAME", "Boutique")
    reset_settings(values)
    yield values
    reset_settings(settings)
