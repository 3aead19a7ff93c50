"""Request limits: token buckets per (route group, client) and the opt-in form's guard.

Two kinds of bucket. `RequestLimiter` keeps its buckets in memory: cheap enough for every
public request, exact for one process; several web processes each keep their own (so the
effective limit is multiplied by their number). `take_shared_token` keeps a bucket in the
database (the dispatcher's `rate_buckets` table, a row lock per take) and holds across every
process: it guards what costs money, the confirmation SMS of the opt-in form.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from textopt.config import Settings
from textopt.contacts.phones import PhoneInfo
from textopt.db.engine import upsert_insert
from textopt.dispatch.models import RateBucket
from textopt.errors import RateLimited, ValidationError

__all__ = [
    "OPTIN_NUMBER_TYPES",
    "SIGN_IN_REFUSED",
    "RequestLimiter",
    "check_optin_request",
    "check_sign_in_allowed",
    "number_prefix",
    "record_failed_sign_in",
    "take_shared_token",
]

# Numbers the opt-in form may text: never premium-rate, shared-cost or other paid ranges.
OPTIN_NUMBER_TYPES = frozenset({"mobile", "fixed_line_or_mobile"})
_PREFIX_HIDDEN_DIGITS = 4  # numbers differing only in their last 4 digits share a prefix
_MAX_KEYS = 100_000  # memory bound of one limiter: the oldest buckets go first


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RequestLimiter:
    """In-memory token buckets keyed by (group, client); thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, group: str, client: str, *, capacity: int, per_seconds: float) -> None:
        """Take one token from the (group, client) bucket, or raise RateLimited."""
        rate = capacity / per_seconds
        now = self._clock()
        with self._lock:
            bucket = self._buckets.pop((group, client), None)
            if bucket is None:
                bucket = _Bucket(tokens=float(capacity), updated=now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            self._buckets[(group, client)] = bucket  # re-inserted: dict order is recency
            if len(self._buckets) > _MAX_KEYS:
                del self._buckets[next(iter(self._buckets))]
            if bucket.tokens < 1:
                wait = math.ceil((1 - bucket.tokens) / rate)
                raise RateLimited(
                    f"too many requests to {group}: try again in {wait} s", retry_after=wait
                )
            bucket.tokens -= 1


def take_shared_token(
    session: Session, *, name: str, capacity: int, per_seconds: float, now: dt.datetime
) -> None:
    """Take one token from a bucket shared through the database, or raise RateLimited.

    The row is locked until the caller's transaction ends, so concurrent takers queue up.
    """
    key = f"limit:{name}"[:64]
    rate = capacity / per_seconds
    query = select(RateBucket).where(RateBucket.account == key).with_for_update()
    bucket = session.scalars(query).one_or_none()
    if bucket is None:
        session.execute(
            upsert_insert(session, RateBucket)
            .values(account=key, tokens=float(capacity), updated_at=now)
            .on_conflict_do_nothing()
        )
        bucket = session.scalars(query.execution_options(populate_existing=True)).one()
    elapsed = max((now - bucket.updated_at).total_seconds(), 0.0)
    tokens = min(float(capacity), bucket.tokens + elapsed * rate)
    bucket.updated_at = now
    if tokens < 1:
        bucket.tokens = tokens
        session.flush()
        wait = math.ceil((1 - tokens) / rate)
        raise RateLimited(f"limit {name} reached: try again in {wait} s", retry_after=wait)
    bucket.tokens = tokens - 1
    session.flush()


#: A refill of one failed sign-in an account may make, in seconds.
_SIGN_IN_REFILL_SECONDS = 60.0
SIGN_IN_REFUSED = "too many failed sign-ins for this account: try again later"


def _sign_in_bucket(email: str) -> str:
    # the address is not kept in clear in a table of counters; any spelling counts alike
    return "login:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def check_sign_in_allowed(
    session: Session, *, email: str, settings: Settings, now: dt.datetime
) -> None:
    """Raise RateLimited while an account's failed sign-ins have used up its budget.

    The budget (`login_failures_per_account`, one more each minute) is kept in the
    database: it holds across every web process and every client address, unlike the
    per-IP limit. Checked before the password (no hash is computed for a refused try).
    """
    key = f"limit:{_sign_in_bucket(email)}"
    bucket = session.scalars(select(RateBucket).where(RateBucket.account == key)).one_or_none()
    if bucket is None:
        return
    capacity = float(settings.login_failures_per_account)
    elapsed = max((now - bucket.updated_at).total_seconds(), 0.0)
    tokens = min(capacity, bucket.tokens + elapsed / _SIGN_IN_REFILL_SECONDS)
    if tokens < 1:
        wait = math.ceil((1 - tokens) * _SIGN_IN_REFILL_SECONDS)
        raise RateLimited(SIGN_IN_REFUSED, retry_after=wait)


def record_failed_sign_in(
    session: Session, *, email: str, settings: Settings, now: dt.datetime
) -> None:
    """Spend one of the account's failed sign-ins (commit it even though the try failed)."""
    capacity = settings.login_failures_per_account
    with contextlib.suppress(RateLimited):  # already empty: it stays so
        take_shared_token(
            session,
            name=_sign_in_bucket(email),
            capacity=capacity,
            per_seconds=capacity * _SIGN_IN_REFILL_SECONDS,
            now=now,
        )


def number_prefix(e164: str) -> str:
    """The number without its last digits: the unit SMS-pumping attacks walk through."""
    return e164[:-_PREFIX_HIDDEN_DIGITS]


def check_optin_request(
    session: Session,
    *,
    settings: Settings,
    limiter: RequestLimiter,
    client_ip: str,
    phone: PhoneInfo,
    now: dt.datetime,
    sends_confirmation: bool = True,
) -> None:
    """Refuse an opt-in that would text a number we must not, or too often.

    Checks, cheapest first: the destination country is allowed, the number is a mobile
    (never premium-rate or shared-cost), the client IP's hourly budget, then in the
    database (across processes) the number prefix's hourly budget and the workspace's cap
    of confirmation SMS per hour. Raises ValidationError or RateLimited; call it in the
    transaction that enqueues the confirmation so a refused request takes no token. A
    request that `sends_confirmation=False` (the person is subscribed already) takes only
    the client IP's token: it texts nobody, so it spends neither SMS budget.
    """
    allowed = settings.optin_countries or [settings.default_region]
    if phone.country not in allowed:
        raise ValidationError(
            f"numbers of {phone.country} cannot sign up here (allowed: {', '.join(allowed)})",
            field="phone",
        )
    if phone.number_type not in OPTIN_NUMBER_TYPES:
        raise ValidationError(
            f"{phone.e164} is not a mobile number ({phone.number_type})", field="phone"
        )
    limiter.take("optin", client_ip, capacity=settings.optin_ip_per_hour, per_seconds=3600)
    if not sends_confirmation:
        return
    take_shared_token(
        session,
        name=f"optin-prefix:{number_prefix(phone.e164)}",
        capacity=settings.optin_prefix_per_hour,
        per_seconds=3600,
        now=now,
    )
    take_shared_token(
        session,
        name="optin-confirmations",
        capacity=settings.optin_confirmations_per_hour,
        per_seconds=3600,
        now=now,
    )
