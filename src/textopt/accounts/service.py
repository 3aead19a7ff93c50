"""Accounts services: users, passwords, API keys, login sessions and the audit log.

Functions flush but never commit: the caller owns the transaction. Every failure to
authenticate raises the same `AuthenticationError` sentence, so a caller cannot learn
whether an email or a key prefix exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.orm import Session

from textopt.accounts.models import (
    ROLE_SCOPES,
    ApiKey,
    AuditEntry,
    IdempotencyRecord,
    LoginSession,
    Role,
    Scope,
    User,
)
from textopt.contacts.fields import normalise_email
from textopt.db.base import utcnow
from textopt.db.ids import MAX_ID, parse_id
from textopt.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)

__all__ = [
    "KEY_PREFIX",
    "Actor",
    "KeyCheck",
    "authenticate_api_key",
    "authenticate_password",
    "create_api_key",
    "create_user",
    "disable_user",
    "end_login_session",
    "get_user_or_raise",
    "idempotency_fingerprint",
    "list_api_keys",
    "list_audit",
    "list_users",
    "parse_scopes",
    "purge_idempotency_records",
    "record_api_key_use",
    "record_audit",
    "revoke_api_key",
    "session_user",
    "start_login_session",
    "user_actor",
]

KEY_PREFIX = "txo"
_MIN_PASSWORD = 12
_MAX_PASSWORD = 1024  # argon2 hashes anything, but a megabyte password is an attack
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verifying a password against this makes an unknown email cost as much as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
_BAD_LOGIN = "wrong email or password, or the account is disabled"
_BAD_KEY = "invalid, unknown or revoked API key"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in user, an API key, or an operator at the command line."""

    kind: str  # "user", "api_key", "cli"
    id: int | None
    label: str
    scopes: frozenset[Scope]
    user_id: int | None = None  # the user acted for: the user, or the API key's user

    @property
    def operator(self) -> bool:
        """The operator at the command line, who holds the database and the secret key."""
        return self.kind == "cli"

    def require(self, scope: Scope) -> None:
        """Raise PermissionDenied unless this actor holds `scope`."""
        if scope not in self.scopes:
            raise PermissionDenied(f"{self.label} lacks the {scope} permission for this operation")


def _email(raw: str) -> str:
    """User emails compare case-insensitively: stored lower-cased."""
    return (normalise_email(raw) or "").lower()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        known = ", ".join(r.value for r in Role)
        raise ValidationError(f"unknown role {value!r} (known: {known})", field="role") from exc


def _check_password(password: str) -> None:
    if len(password) < _MIN_PASSWORD:
        raise ValidationError(
            f"the password must have at least {_MIN_PASSWORD} characters", field="password"
        )
    if len(password) > _MAX_PASSWORD:
        raise ValidationError(
            f"the password must have at most {_MAX_PASSWORD} characters", field="password"
        )


def _check_within(actor: Actor, wanted: frozenset[Scope], *, what: str, field: str) -> None:
    """Nobody hands out more power than their own (the operator excepted)."""
    if actor.operator or wanted <= actor.scopes:
        return
    extra = ", ".join(sorted(wanted - actor.scopes))
    raise PermissionDenied(
        f"{actor.label} cannot create {what} with {extra}: they lack it", field=field
    )


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role | str,
    created_by: Actor,
) -> User:
    """Add a user with an argon2id hash of the password; the email must be free.

    The role's scopes must all be held by `created_by` (a key with only `admin` cannot
    make an admin, who would hold every scope).
    """
    address = _email(email)
    if not address:
        raise ValidationError("a user needs an email address", field="email")
    _check_password(password)
    checked_role = _role(role)
    _check_within(
        created_by, ROLE_SCOPES[checked_role], what=f"a user of role {checked_role}", field="role"
    )
    if session.scalars(select(User).where(User.email == address)).first() is not None:
        raise ConflictError(f"a user with email {address} already exists", field="email")
    user = User(email=address, password_hash=_hasher.hash(password), role=checked_role)
    session.add(user)
    session.flush()
    return user


def get_user_or_raise(session: Session, *, user: int | str) -> User:
    """The user with this id or email, or NotFoundError."""
    if isinstance(user, int) or user.strip().isdecimal():
        user_id = user if isinstance(user, int) else parse_id(user.strip())
        in_range = user_id is not None and 1 <= user_id <= MAX_ID
        found = session.get(User, user_id) if in_range else None
    else:
        address = _email(user)
        found = session.scalars(select(User).where(User.email == address)).first()
    if found is None:
        raise NotFoundError(f"no user {user}")
    return found


def list_users(session: Session) -> list[User]:
    """Every user, oldest first."""
    return list(session.scalars(select(User).order_by(User.id)))


def disable_user(session: Session, *, user: int | str) -> User:
    """Stop a user from signing in, end their sessions and revoke every key acting for them.

    That is the keys they created and the keys those created in turn (which act for the
    same user), and the keys created by any of those.
    """
    found = get_user_or_raise(session, user=user)
    now = utcnow()
    if found.disabled_at is None:
        found.disabled_at = now
    session.execute(delete(LoginSession).where(LoginSession.user_id == found.id))
    owned = list(session.scalars(select(ApiKey.id).where(ApiKey.created_by == found.id)))
    _revoke_with_descendants(session, key_ids=owned, now=now)
    return found


def _revoke_with_descendants(session: Session, *, key_ids: Iterable[int], now: dt.datetime) -> int:
    """Revoke these keys and every key created through them, generation by generation."""
    revoked = 0
    seen: set[int] = set()
    frontier = set(key_ids)
    while frontier:
        seen |= frontier
        for key in session.scalars(
            select(ApiKey).where(ApiKey.id.in_(frontier), ApiKey.revoked_at.is_(None))
        ):
            key.revoked_at = now
            revoked += 1
        children = session.scalars(select(ApiKey.id).where(ApiKey.parent_id.in_(frontier)))
        frontier = set(children) - seen
    session.flush()
    return revoked


def authenticate_password(session: Session, *, email: str, password: str) -> User:
    """The active user with this email and password, or AuthenticationError."""
    try:
        address = _email(email)
    except ValidationError:
        address = ""
    user = session.scalars(select(User).where(User.email == address)).first() if address else None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password[:_MAX_PASSWORD])
    except (VerifyMismatchError, VerificationError, InvalidHashError) as exc:
        raise AuthenticationError(_BAD_LOGIN) from exc
    if user is None or user.disabled:
        raise AuthenticationError(_BAD_LOGIN)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def user_actor(user: User) -> Actor:
    """The actor of a signed-in user: the scopes of their role."""
    return Actor("user", user.id, user.email, ROLE_SCOPES[Role(user.role)], user_id=user.id)


def start_login_session(
    session: Session, *, user: User, lifetime: dt.timedelta, ip: str | None = None
) -> tuple[LoginSession, str]:
    """Open a login session; returns it and the cookie token (never stored in clear)."""
    token = secrets.token_urlsafe(32)
    login = LoginSession(
        token_hash=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + lifetime,
        ip=ip,
    )
    session.add(login)
    session.flush()
    return login, token


def session_user(session: Session, *, token: str) -> tuple[LoginSession, User]:
    """The live login session of a cookie token and its user, or AuthenticationError."""
    login = session.scalars(
        select(LoginSession).where(LoginSession.token_hash == _digest(token))
    ).first()
    if login is None or login.expires_at <= utcnow():
        raise AuthenticationError("the session has expired: sign in again")
    user = session.get(User, login.user_id)
    if user is None or user.disabled:
        raise AuthenticationError("the session has expired: sign in again")
    return login, user


def end_login_session(session: Session, *, token: str) -> None:
    """Sign out: forget the session of this cookie token (nothing if unknown)."""
    session.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    """Scopes from their names (comma-separated items allowed); at least one."""
    names = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not names:
        raise ValidationError("give at least one scope", field="scopes")
    try:
        return frozenset(Scope(name) for name in names)
    except ValueError as exc:
        known = ", ".join(s.value for s in Scope)
        raise ValidationError(f"{exc} (known scopes: {known})", field="scopes") from exc


def create_api_key(
    session: Session,
    *,
    name: str,
    scopes: Iterable[Scope | str],
    created_by: Actor,
    for_user: int | str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns it and its secret, which is shown once and never stored.

    The key acts for the user of `created_by` (a key created by a key acts for that key's
    user) and may only carry scopes both `created_by` and that user hold. The operator
    may name the user (`for_user`), or create a key that acts for nobody.
    """
    label = " ".join(name.split())
    if not label or len(label) > 100:
        raise ValidationError("an API key needs a name of 1 to 100 characters", field="name")
    wanted = parse_scopes(str(s) for s in scopes)
    _check_within(created_by, wanted, what="a key", field="scopes")
    owner_id = created_by.user_id
    if for_user is not None:
        if not created_by.operator:
            raise PermissionDenied("only the operator names the user a key acts for")
        owner_id = get_user_or_raise(session, user=for_user).id
    if owner_id is not None:
        owner = session.get(User, owner_id)
        if owner is None or owner.disabled:
            raise PermissionDenied(f"user {owner_id} is disabled: no key can act for them")
        owner_actor = user_actor(owner)
        _check_within(owner_actor, wanted, what="a key", field="scopes")
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        name=label,
        prefix=prefix,
        secret_hash=_digest(secret),
        scopes=sorted(wanted),
        created_by=owner_id,
        parent_id=created_by.id if created_by.kind == "api_key" else None,
    )
    session.add(key)
    session.flush()
    return key, secret


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """A live API key's actor, and whether its last use is due to be recorded."""

    actor: Actor
    key_id: int
    use_due: bool


_KEY_READ = (
    select(
        ApiKey.id,
        ApiKey.name,
        ApiKey.prefix,
        ApiKey.secret_hash,
        ApiKey.scopes,
        ApiKey.created_by,
        ApiKey.last_used_at,
        ApiKey.revoked_at,
        User.id.label("owner_id"),
        User.role,
        User.disabled_at,
    )
    .outerjoin(User, User.id == ApiKey.created_by)
    .where(ApiKey.prefix == bindparam("prefix"))
)


def authenticate_api_key(connection: Connection, *, secret: str, now: dt.datetime) -> KeyCheck:
    """The actor of the live key with this secret, or AuthenticationError; one read.

    A key whose user is disabled is refused too, whatever its own state. The key's scopes
    are never more than its user's role grants. Its last use is recorded once a minute at
    most (`record_api_key_use`, when `use_due`): a busy integration should not write on
    every call.
    """
    secret = secret.strip()
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise AuthenticationError(_BAD_KEY)
    row = connection.execute(_KEY_READ, {"prefix": parts[1]}).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
        raise AuthenticationError(_BAD_KEY)
    if row.revoked_at is not None:
        raise AuthenticationError(_BAD_KEY)
    scopes = parse_scopes(row.scopes)
    if row.created_by is not None:
        if row.owner_id is None or row.disabled_at is not None:
            raise AuthenticationError(_BAD_KEY)
        scopes &= ROLE_SCOPES[Role(row.role)]
    last = row.last_used_at
    actor = Actor(
        "api_key", row.id, f"API key {row.name} ({row.prefix})", scopes, user_id=row.created_by
    )
    return KeyCheck(actor, row.id, use_due=last is None or now - last > dt.timedelta(minutes=1))


def record_api_key_use(connection: Connection, *, key_id: int, now: dt.datetime) -> None:
    """Record that the key was used at `now` (after `authenticate_api_key` said it is due)."""
    connection.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every API key, revoked ones included, oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_api_key(session: Session, *, key: int | str) -> ApiKey:
    """Revoke a key by id or prefix, and the keys created through it; they stop at once."""
    query = select(ApiKey)
    if isinstance(key, int) or key.strip().isdecimal():
        key_id = key if isinstance(key, int) else parse_id(key.strip())
        query = query.where(ApiKey.id == (key_id if key_id and key_id <= MAX_ID else 0))
    else:
        query = query.where(ApiKey.prefix == key.strip())
    found = session.scalars(query).first()
    if found is None:
        raise NotFoundError(f"no API key {key}")
    _revoke_with_descendants(session, key_ids=[found.id], now=utcnow())
    return found


def record_audit(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str | int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry in the caller's transaction (so it exists iff the action did)."""
    entry = AuditEntry(
        at=utcnow(),
        actor_type=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=dict(detail or {}),
    )
    session.add(entry)
    session.flush()
    return entry


def list_audit(
    session: Session,
    *,
    after_id: int | None = None,
    limit: int = 50,
    target_type: str | None = None,
    target_id: str | None = None,
) -> list[AuditEntry]:
    """Audit entries oldest first, a page at a time (`after_id`: the last id seen)."""
    query = select(AuditEntry).order_by(AuditEntry.id).limit(limit)
    if after_id is not None:
        query = query.where(AuditEntry.id > after_id)
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    return list(session.scalars(query))


def idempotency_fingerprint(*, workspace_key: bytes, request: Mapping[str, Any]) -> str:
    """The keyed fingerprint of a request (JSON-ready data) stored under its Idempotency-Key."""
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(workspace_key, canonical.encode(), hashlib.sha256).hexdigest()


def purge_idempotency_records(session: Session, *, before: dt.datetime) -> int:
    """Forget the Idempotency-Keys recorded before `before`; returns how many."""
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
