"""Request dependencies: a database session per request, the caller, scopes, limits.

Authentication, in order: an `Authorization: Bearer <API key>` header, else the session
cookie of a signed-in user. A cookie-authenticated request that changes something must
echo the session's CSRF token (`X-CSRF-Token` header, or a `csrf_token` form field checked
by the web pages with `check_csrf`): a cookie is sent by the browser on its own, a header
or form field from another site is not.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from textopt.accounts import service as accounts
from textopt.accounts.limits import RequestLimiter, check_sign_in_allowed, record_failed_sign_in
from textopt.accounts.models import LoginSession, Scope, User
from textopt.accounts.service import Actor
from textopt.config import Settings
from textopt.consent.suppression import Digester
from textopt.db.base import utcnow
from textopt.db.engine import SNAPSHOT, session_scope
from textopt.errors import AuthenticationError, PermissionDenied

__all__ = [
    "COOKIE_NAME",
    "CSRF_HEADER",
    "AddressDigest",
    "CurrentActor",
    "DbSession",
    "check_csrf",
    "clear_session_cookie",
    "client_ip",
    "current_login",
    "db_session",
    "get_digester_dep",
    "get_settings_dep",
    "limit",
    "require",
    "require_detached",
    "set_session_cookie",
    "sign_in",
]

COOKIE_NAME = "textopt_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# async: a value read from the app, no I/O; a plain `def` would cost a trip to the thread pool
async def get_settings_dep(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_digester_dep(request: Request) -> Digester:
    """The keyed digest of addresses under the app's secret key (built with the app)."""
    digest: Digester = request.app.state.digester
    return digest


AddressDigest = Annotated[Digester, Depends(get_digester_dep)]


def db_session(request: Request) -> Iterator[Session]:
    """A session committed when the route returns (before the response), rolled back on error."""
    with session_scope(request.app.state.engine) as session:
        yield session


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def client_ip(request: Request) -> str:
    """The client's address as the server sees it (set `--proxy-headers` behind a proxy)."""
    return request.client.host if request.client else "unknown"


def current_login(session: Session, request: Request) -> tuple[LoginSession, User]:
    """The signed-in user of the request's cookie, or AuthenticationError."""
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        raise AuthenticationError("authentication required: an API key or a signed-in session")
    return accounts.session_user(session, token=token)


def sign_in(request: Request, *, email: str, password: str) -> tuple[Actor, LoginSession, str]:
    """Check the password within the account's budget of failures; open a login session.

    Returns the actor, the login session and its cookie token. Three transactions: the
    budget is read before the password is hashed, and a failure is written in its own,
    committed although the request fails. Raises AuthenticationError or RateLimited.
    """
    settings: Settings = request.app.state.settings
    sessions = request.app.state.sessions
    now = utcnow()
    with sessions.begin() as session:
        check_sign_in_allowed(session, email=email, settings=settings, now=now)
    try:
        with sessions.begin() as session:
            user = accounts.authenticate_password(session, email=email, password=password)
            login, token = accounts.start_login_session(
                session,
                user=user,
                lifetime=dt.timedelta(hours=settings.session_hours),
                ip=client_ip(request),
            )
            session.expunge(login)
            return accounts.user_actor(user), login, token
    except AuthenticationError:
        with sessions.begin() as session:
            record_failed_sign_in(session, email=email, settings=settings, now=now)
        raise


def check_csrf(login: LoginSession, token: str | None) -> None:
    """Refuse a state-changing request of a cookie session without its CSRF token."""
    if not token or not hmac.compare_digest(token.encode(), login.csrf_token.encode()):
        raise PermissionDenied(
            f"missing or wrong CSRF token: send the session's token in {CSRF_HEADER}"
        )


def _bearer(request: Request) -> str | None:
    """The API key the request sends, None without an `Authorization` header."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise AuthenticationError("use `Authorization: Bearer <API key>`")
    return credentials


def _actor(request: Request, session: Session) -> Actor:
    secret = _bearer(request)
    if secret is not None:
        now = utcnow()
        checked = accounts.authenticate_api_key(session.connection(), secret=secret, now=now)
        if checked.use_due:
            accounts.record_api_key_use(session.connection(), key_id=checked.key_id, now=now)
        return checked.actor
    login, user = current_login(session, request)
    if request.method not in _SAFE_METHODS:
        check_csrf(login, request.headers.get(CSRF_HEADER))
    return accounts.user_actor(user)


def _authenticated(request: Request) -> Actor:
    """The caller, read without SQLite's write lock unless a last use must be recorded.

    Checking a key or a cookie is a read; recording its last use (once a minute at most)
    is the only write. So the check runs in a read transaction, which queues for nothing,
    and a write transaction follows only when there is something to record. A key is
    checked by one statement on a bare connection: no ORM session, whose set-up cost as
    much as the read.
    """
    engine = request.app.state.engine
    secret = _bearer(request)
    if secret is not None:
        now = utcnow()
        with engine.connect().execution_options(**{SNAPSHOT: True}) as connection:
            checked = accounts.authenticate_api_key(connection, secret=secret, now=now)
        if checked.use_due:
            with engine.begin() as connection:
                accounts.record_api_key_use(connection, key_id=checked.key_id, now=now)
        return checked.actor
    with (
        engine.connect().execution_options(**{SNAPSHOT: True}) as connection,
        Session(bind=connection) as session,
    ):
        actor = _actor(request, session)
        if not (session.dirty or session.new or session.deleted):
            return actor
    with request.app.state.sessions.begin() as session:
        return _actor(request, session)


def require(scope: Scope) -> Callable[[Request, Session], Actor]:
    """A dependency: the authenticated caller, who must hold `scope`."""

    def dependency(request: Request, session: DbSession) -> Actor:
        actor = _actor(request, session)
        actor.require(scope)
        request.state.actor = actor
        return actor

    return dependency


def require_detached(scope: Scope) -> Callable[[Request], Actor]:
    """Like `require`, in a transaction of its own that ends before the route runs.

    For routes that write through their own sessions (the CSV import), and routes that
    must hold SQLite's write lock within one thread's turn (`POST /v1/messages`): the
    request's session would otherwise hold it from the dependency to the route.
    """

    def dependency(request: Request) -> Actor:
        actor = _authenticated(request)
        actor.require(scope)
        request.state.actor = actor
        return actor

    return dependency


CurrentActor = Annotated[Actor, Depends(require(Scope.READ))]


def limit(group: str, *, per_minute: Callable[[Settings], int]) -> Callable[[Request], None]:
    """A dependency: one token of the (group, client IP) bucket, or 429."""

    def dependency(request: Request) -> None:
        settings: Settings = request.app.state.settings
        limiter: RequestLimiter = request.app.state.limiter
        limiter.take(group, client_ip(request), capacity=per_minute(settings), per_seconds=60)

    return dependency


def set_session_cookie(response: Response, *, token: str, settings: Settings) -> None:
    """Hand the browser its session cookie: httpOnly, SameSite=Lax, Secure unless disabled."""
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(dt.timedelta(hours=settings.session_hours).total_seconds()),
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, *, settings: Settings) -> None:
    """Remove the session cookie."""
    response.delete_cookie(
        COOKIE_NAME, httponly=True, secure=settings.cookie_secure, samesite="lax", path="/"
    )
