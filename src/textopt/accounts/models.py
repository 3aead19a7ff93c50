"""Tables of the accounts domain: users, API keys, login sessions, audit log, idempotency.

No secret is stored in a usable form: passwords are argon2 hashes, API keys and session
tokens are SHA-256 digests of high-entropy random strings (a digest suffices for those; a
slow hash only matters for guessable secrets such as passwords).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from textopt.db.base import Base, JSONType, utcnow

__all__ = [
    "ROLE_SCOPES",
    "ApiKey",
    "AuditEntry",
    "IdempotencyRecord",
    "LoginSession",
    "Role",
    "Scope",
    "User",
]


class Role(StrEnum):
    """What a person may do in the workspace."""

    ADMIN = "admin"  # everything, including users, API keys, webhooks and GDPR requests
    MARKETER = "marketer"  # contacts, consent, segments; creates, launches and sends
    VIEWER = "viewer"  # reads everything, changes nothing


class Scope(StrEnum):
    """One permission; a route needs one, a role grants several, an API key carries some."""

    READ = "read"  # read contacts, consent, segments, campaigns, messages, reports
    WRITE = "write"  # change contacts, consent, segments; create and preview campaigns
    LAUNCH = "launch"  # launch, pause, resume and cancel campaigns
    SEND = "send"  # one-off messages (`POST /v1/messages`)
    EVENTS = "events"  # record events (`POST /v1/events`): a shop's systems, nothing else
    GDPR = "gdpr"  # export and erase a person, export the contact list
    ADMIN = "admin"  # users, API keys, webhook endpoints, the audit log
    METRICS = "metrics"  # `GET /metrics` only (counts, no personal data): for a scraper's key
    INBOX = "inbox"  # read and answer conversations, assign and close them (`/v1/conversations`)


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset(Scope),
    Role.MARKETER: frozenset(
        {Scope.READ, Scope.WRITE, Scope.LAUNCH, Scope.SEND, Scope.EVENTS, Scope.INBOX}
    ),
    Role.VIEWER: frozenset({Scope.READ}),
}


class User(Base):
    """A person who signs in to the web UI (and may create API keys)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, with its parameters
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column()
    last_login_at: Mapped[dt.datetime | None] = mapped_column()

    @property
    def disabled(self) -> bool:
        """Whether the user may no longer sign in."""
        return self.disabled_at is not None


class ApiKey(Base):
    """A key for `/v1`: shown once, stored as the SHA-256 of its secret, scoped, revocable."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # shown in lists, finds the row
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # The user the key acts for: who created it, or the user of the key that created it.
    # Disabling that user revokes the key; None only for keys of the operator (`textopt
    # apikeys create` without --user) and the keys those create.
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The key that created this one through the API: revoking it revokes this one too.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class LoginSession(Base):
    """A signed-in browser: the cookie holds a token, the table its SHA-256."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # echoed by forms and API calls
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    ip: Mapped[str | None] = mapped_column(String(64))


class AuditEntry(Base):
    """Who did what to which thing: launches, pauses, cancellations, exports, erasures..."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))  # user, api_key, cli
    actor_id: Mapped[int | None] = mapped_column()
    actor_label: Mapped[str] = mapped_column(String(320))  # email, key name, OS user
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class IdempotencyRecord(Base):
    """Which API request created which message under an `Idempotency-Key`.

    The fingerprint tells a retry (same request: the first answer again) from a mistake
    (another request under a used key: refused). It is an HMAC of the request under the
    workspace secret key: a plain digest of a request whose only unknown is a phone number
    gives the number back in a few hundred guesses. Records are deleted after
    `idempotency_window_hours`, and with the person's messages at a GDPR erasure.
    """

    __tablename__ = "idempotency_records"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
