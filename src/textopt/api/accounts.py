"""`/v1/auth`, `/v1/users`, `/v1/api-keys`, `/v1/audit`: signing in, people, keys, the log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from textopt.accounts import service as accounts
from textopt.accounts.models import ApiKey, AuditEntry, Role, Scope, User
from textopt.accounts.service import Actor
from textopt.api.pagination import Page, page_from_list
from textopt.config import Settings
from textopt.http.deps import (
    COOKIE_NAME,
    CurrentActor,
    DbSession,
    clear_session_cookie,
    current_login,
    get_settings_dep,
    limit,
    require,
    set_session_cookie,
    sign_in,
)
from textopt.http.params import After, Limit, RowId

router = APIRouter(prefix="/v1", tags=["accounts"])
Admin = Annotated[Actor, Depends(require(Scope.ADMIN))]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


class LoginRequest(BaseModel):
    """Email and password of a user."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class Me(BaseModel):
    """The caller: who, how authenticated, which scopes; the CSRF token for a session."""

    kind: str
    id: int | None
    label: str
    scopes: list[str]
    csrf_token: str | None = None


class UserCreate(BaseModel):
    """A new user."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    role: Role


class UserRead(BaseModel):
    """A user as shown (never the hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: str
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    last_login_at: dt.datetime | None


class ApiKeyCreate(BaseModel):
    """A new key: a name and its scopes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100)
    scopes: list[Scope] = Field(min_length=1)


class ApiKeyRead(BaseModel):
    """A key as listed: its prefix, never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_by: int | None = Field(description="The user the key acts for (null: the operator's)")
    parent_id: int | None = Field(description="The key that created this one, if any")
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyRead):
    """A new key with its secret: shown this once, never again."""

    secret: str


class AuditRead(BaseModel):
    """One audit entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    actor_type: str
    actor_id: int | None
    actor_label: str
    action: str
    target_type: str
    target_id: str | None
    detail: dict[str, Any]


@router.post(
    "/auth/login",
    response_model=Me,
    dependencies=[Depends(limit("login", per_minute=lambda s: s.login_rate_per_minute))],
)
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    settings: AppSettings,
) -> Me:
    """Sign in: sets the session cookie; returns the CSRF token to send on changes.

    Limited per client address (`login_rate_per_minute`) and per account
    (`login_failures_per_account` failures, then one a minute): 429 with `Retry-After`.
    """
    actor, login_session, token = sign_in(request, email=body.email, password=body.password)
    set_session_cookie(response, token=token, settings=settings)
    return Me(
        kind=actor.kind,
        id=actor.id,
        label=actor.label,
        scopes=sorted(actor.scopes),
        csrf_token=login_session.csrf_token,
    )


@router.post("/auth/logout", status_code=204)
def logout(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """Sign out: the session ends on the server and the cookie is removed."""
    token = request.cookies.get(COOKIE_NAME)
    if token:
        accounts.end_login_session(session, token=token)
    response = Response(status_code=204)
    clear_session_cookie(response, settings=settings)
    return response


@router.get("/auth/me", response_model=Me)
def me(actor: CurrentActor, request: Request, session: DbSession) -> Me:
    """Who is calling, with which scopes (and the CSRF token of a browser session)."""
    csrf = None
    if actor.kind == "user":
        csrf = current_login(session, request)[0].csrf_token
    return Me(
        kind=actor.kind,
        id=actor.id,
        label=actor.label,
        scopes=sorted(actor.scopes),
        csrf_token=csrf,
    )


def _user(user: User) -> UserRead:
    return UserRead.model_validate(user)


def _key(key: ApiKey) -> ApiKeyRead:
    return ApiKeyRead.model_validate(key)


@router.get("/users", response_model=list[UserRead])
def list_users(actor: Admin, session: DbSession) -> list[UserRead]:
    """Every user."""
    return [_user(u) for u in accounts.list_users(session)]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, actor: Admin, session: DbSession) -> UserRead:
    """Add a user (admin); never with a role whose scopes the caller lacks."""
    user = accounts.create_user(
        session, email=body.email, password=body.password, role=body.role, created_by=actor
    )
    accounts.record_audit(
        session,
        actor=actor,
        action="user.created",
        target_type="user",
        target_id=user.id,
        detail={"email": user.email, "role": user.role},
    )
    return _user(user)


@router.post("/users/{user_id}/disable", response_model=UserRead)
def disable_user(user_id: RowId, actor: Admin, session: DbSession) -> UserRead:
    """Disable a user: sessions end, every key acting for them is revoked."""
    user = accounts.disable_user(session, user=user_id)
    accounts.record_audit(
        session, actor=actor, action="user.disabled", target_type="user", target_id=user.id
    )
    return _user(user)


@router.get("/api-keys", response_model=list[ApiKeyRead])
def list_keys(actor: Admin, session: DbSession) -> list[ApiKeyRead]:
    """Every key, revoked ones included (prefixes only)."""
    return [_key(k) for k in accounts.list_api_keys(session)]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_key(body: ApiKeyCreate, actor: Admin, session: DbSession) -> ApiKeyCreated:
    """Create a key acting for the caller's user; the secret is in this answer only."""
    key, secret = accounts.create_api_key(
        session, name=body.name, scopes=body.scopes, created_by=actor
    )
    accounts.record_audit(
        session,
        actor=actor,
        action="api_key.created",
        target_type="api_key",
        target_id=key.id,
        detail={"name": key.name, "prefix": key.prefix, "scopes": key.scopes},
    )
    return ApiKeyCreated(**_key(key).model_dump(), secret=secret)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyRead)
def revoke_key(key_id: RowId, actor: Admin, session: DbSession) -> ApiKeyRead:
    """Revoke a key: it stops working at once."""
    key = accounts.revoke_api_key(session, key=key_id)
    accounts.record_audit(
        session, actor=actor, action="api_key.revoked", target_type="api_key", target_id=key.id
    )
    return _key(key)


@router.get("/audit", response_model=Page[AuditRead])
def audit_log(
    actor: Admin,
    session: DbSession,
    after: After = None,
    limit: Limit = 50,
    target_type: str | None = None,
    target_id: str | None = None,
) -> Page[AuditRead]:
    """The audit log, oldest first: who launched, paused, cancelled, exported, erased what."""
    entries: list[AuditEntry] = accounts.list_audit(
        session,
        after_id=after,
        limit=limit + 1,
        target_type=target_type,
        target_id=target_id,
    )
    return page_from_list(entries, limit=limit, convert=AuditRead.model_validate)
