"""Fixtures of the API tests: the app on each test database and clients by role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from tests.factories.api import ApiClient, client, make_app, make_key

from textopt.accounts.models import Scope
from textopt.config import Settings


@pytest.fixture
def app(engine: Engine, campaign_settings: Settings) -> FastAPI:
    """The API on the test database (no workers)."""
    return make_app(engine, campaign_settings)


@pytest.fixture
def admin(app: FastAPI, engine: Engine) -> Iterator[ApiClient]:
    """A client with every scope."""
    with client(app, make_key(engine, list(Scope), name="admin")) as c:
        yield c


@pytest.fixture
def viewer(app: FastAPI, engine: Engine) -> Iterator[ApiClient]:
    """A client that may only read."""
    with client(app, make_key(engine, [Scope.READ], name="viewer")) as c:
        yield c


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[ApiClient]:
    """A client without credentials."""
    with client(app) as c:
        yield c
