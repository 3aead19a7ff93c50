"""API test helpers: the app on the test database, users, keys and authenticated clients."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine

from textopt.accounts import service as accounts
from textopt.accounts.limits import RequestLimiter
from textopt.accounts.models import Role, Scope
from textopt.api.app import create_app
from textopt.config import Settings
from textopt.db.engine import session_scope

PASSWORD = "correct horse battery staple"
BASE_URL = "https://testserver"  # https: the session cookie is Secure
#: The operator at the command line, who sets up the workspace's first users and keys.
OPERATOR = accounts.Actor("cli", None, "cli:tests", frozenset())


def make_app(
    engine: Engine, settings: Settings, *, limiter: RequestLimiter | None = None
) -> FastAPI:
    """The API app on the test database, without workers."""
    return create_app(settings, dispatcher=False, engine=engine, limiter=limiter)


def make_key(
    engine: Engine, scopes: Iterable[Scope | str], *, name: str = "test", user: int | None = None
) -> str:
    """A new API key's secret with these scopes (acting for `user` if given)."""
    with session_scope(engine) as session:
        _, secret = accounts.create_api_key(
            session, name=name, scopes=scopes, created_by=OPERATOR, for_user=user
        )
    return secret


def make_user(engine: Engine, email: str, role: Role, *, password: str = PASSWORD) -> int:
    """A new user's id."""
    with session_scope(engine) as session:
        user = accounts.create_user(
            session, email=email, password=password, role=role, created_by=OPERATOR
        )
        return user.id


class ApiClient:
    """A synchronous face over `httpx.AsyncClient` + `httpx.ASGITransport` (one event loop)."""

    def __init__(self, app: FastAPI, headers: dict[str, str]) -> None:
        self._runner = asyncio.Runner()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.http = httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers)

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        """Send one request and return the response."""
        return self._runner.run(self.http.request(method, url, **options))

    def get(self, url: str, **options: Any) -> httpx.Response:
        """GET."""
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        """POST."""
        return self.request("POST", url, **options)

    def patch(self, url: str, **options: Any) -> httpx.Response:
        """PATCH."""
        return self.request("PATCH", url, **options)

    def put(self, url: str, **options: Any) -> httpx.Response:
        """PUT."""
        return self.request("PUT", url, **options)

    def delete(self, url: str, **options: Any) -> httpx.Response:
        """DELETE."""
        return self.request("DELETE", url, **options)

    def close(self) -> None:
        """Close the client and its event loop."""
        self._runner.run(self.http.aclose())
        self._runner.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def client(app: FastAPI, secret: str | None = None) -> ApiClient:
    """An HTTP client of `app`, with `secret` as its bearer key if given."""
    return ApiClient(app, {"Authorization": f"Bearer {secret}"} if secret else {})


def scoped_client(app: FastAPI, engine: Engine, *scopes: Scope) -> ApiClient:
    """A client holding a fresh key with exactly `scopes`."""
    return client(app, make_key(engine, scopes, name="-".join(scopes) or "none"))
