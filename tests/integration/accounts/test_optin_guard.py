"""The opt-in form's guard against SMS pumping: countries, number types, shared caps."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from textopt.accounts.limits import RequestLimiter, check_optin_request
from textopt.config import Settings
from textopt.contacts.phones import parse_phone
from textopt.db.engine import session_scope
from textopt.errors import RateLimited, ValidationError

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


def _check(
    engine: Engine, settings: Settings, phone: str, ip: str = "1.1.1.1", **kw: object
) -> None:
    limiter = kw.pop("limiter", None) or RequestLimiter()
    with session_scope(engine) as s:
        check_optin_request(
            s,
            settings=settings,
            limiter=limiter,  # type: ignore[arg-type]
            client_ip=ip,
            phone=parse_phone(phone, "FR"),
            now=kw.pop("now", NOW),  # type: ignore[arg-type]
        )


def test_foreign_premium_and_landline_numbers_are_refused(
    engine: Engine, settings: Settings
) -> None:
    _check(engine, settings, "+33612345678")
    for number in ("+447400123456", "+33899123456", "+33142345678"):
        with pytest.raises(ValidationError) as refused:
            _check(engine, settings, number)
        assert refused.value.field == "phone"
    widened = settings.model_copy(update={"optin_countries": ["FR", "GB"]})
    _check(engine, widened, "+447400123456")


def test_one_ip_is_capped_per_hour(engine: Engine, settings: Settings) -> None:
    limiter = RequestLimiter()
    tight = settings.model_copy(update={"optin_ip_per_hour": 2})
    _check(engine, tight, "+33611111111", limiter=limiter)
    _check(engine, tight, "+33622222222", limiter=limiter)
    with pytest.raises(RateLimited):
        _check(engine, tight, "+33633333333", limiter=limiter)
    _check(engine, tight, "+33633333333", ip="2.2.2.2", limiter=limiter)


def test_a_number_prefix_is_capped_across_processes(engine: Engine, settings: Settings) -> None:
    tight = settings.model_copy(update={"optin_prefix_per_hour": 2})
    _check(engine, tight, "+33612340001", ip="1.0.0.1")
    _check(engine, tight, "+33612340002", ip="1.0.0.2")
    with pytest.raises(RateLimited) as refused:  # fresh limiters: the cap lives in the database
        _check(engine, tight, "+33612340003", ip="1.0.0.3")
    assert refused.value.retry_after == 1800
    _check(engine, tight, "+33698760000", ip="1.0.0.4")  # another prefix
    _check(engine, tight, "+33612340003", ip="1.0.0.5", now=NOW + dt.timedelta(minutes=30))


def test_confirmations_per_hour_are_capped_for_the_workspace(
    engine: Engine, settings: Settings
) -> None:
    tight = settings.model_copy(update={"optin_confirmations_per_hour": 2})
    _check(engine, tight, "+33611000000", ip="1.0.0.1")
    _check(engine, tight, "+33622000000", ip="1.0.0.2")
    with pytest.raises(RateLimited):
        _check(engine, tight, "+33633000000", ip="1.0.0.3")
