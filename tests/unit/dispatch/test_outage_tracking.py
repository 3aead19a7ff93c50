"""Outage tracking and fallback lists (no database)."""

from __future__ import annotations

import datetime as dt

from textopt.dispatch.failover import OutageTracker, fallback_accounts
from textopt.providers.base import SubmitOutcome, SubmitResult
from textopt.providers.codes import CONNECT_FAILED, NO_ANSWER

T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
ACCEPTED = SubmitResult(1, SubmitOutcome.ACCEPTED, "id-1")
REFUSED = SubmitResult(1, SubmitOutcome.PERMANENT, error_code="0x0B")
BUSY = SubmitResult(1, SubmitOutcome.TEMPORARY, error_code="503")
THROTTLED = SubmitResult(1, SubmitOutcome.TEMPORARY, error_code="429", throttled=True)
UNREACHABLE = SubmitResult(1, SubmitOutcome.TEMPORARY, error_code=CONNECT_FAILED)
SILENT = SubmitResult(1, SubmitOutcome.TEMPORARY, error_code=NO_ANSWER)


def _tracker() -> OutageTracker:
    return OutageTracker(after_errors=3, cooldown=dt.timedelta(seconds=60))


def test_several_temporary_errors_in_a_row_make_an_outage() -> None:
    tracker = _tracker()
    assert not tracker.observe("a", [BUSY, SILENT], now=T0)
    assert not tracker.in_outage("a", now=T0)
    assert tracker.observe("a", [BUSY], now=T0)  # the third in a row
    assert tracker.in_outage("a", now=T0)
    assert not tracker.observe("a", [BUSY], now=T0)  # already in outage: not news
    assert not tracker.in_outage("b", now=T0)


def test_an_answer_in_between_resets_the_count() -> None:
    tracker = _tracker()
    for answer in (ACCEPTED, REFUSED):
        tracker.observe("a", [BUSY, BUSY, answer, BUSY, BUSY], now=T0)
        assert not tracker.in_outage("a", now=T0)


def test_one_failed_connection_is_an_outage_at_once() -> None:
    tracker = _tracker()
    assert tracker.observe("a", [UNREACHABLE], now=T0)


def test_throttling_is_the_provider_answering_not_an_outage() -> None:
    tracker = _tracker()
    tracker.observe("a", [THROTTLED] * 10, now=T0)
    assert not tracker.in_outage("a", now=T0)


def test_after_the_cool_down_the_account_is_tried_again_and_one_failure_trips_it() -> None:
    tracker = _tracker()
    tracker.observe("a", [UNREACHABLE], now=T0)
    later = T0 + dt.timedelta(seconds=60)
    assert not tracker.in_outage("a", now=later)
    assert tracker.observe("a", [BUSY], now=later)


def test_an_acceptance_during_the_outage_ends_it() -> None:
    tracker = _tracker()
    tracker.observe("a", [UNREACHABLE], now=T0)
    tracker.observe("a", [ACCEPTED], now=T0)
    assert not tracker.in_outage("a", now=T0)


PROVIDERS = {
    "a": {"kind": "sandbox", "fallback": ["b", "c", "a", "missing"]},
    "b": {"kind": "sandbox", "fallback": ["c"]},
    "c": {"kind": "sandbox"},
}


def test_an_account_falls_back_to_its_configured_accounts_in_order() -> None:
    assert fallback_accounts("a", providers=PROVIDERS) == ["b", "c"]
    assert fallback_accounts("b", providers=PROVIDERS) == ["c"]
    assert fallback_accounts("c", providers=PROVIDERS) == []


def test_a_campaign_fallback_list_continues_after_the_current_account() -> None:
    chain = ("b", "c")
    assert fallback_accounts(
        "a", providers=PROVIDERS, campaign_primary="a", campaign_fallback=chain
    ) == ["b", "c"]
    assert fallback_accounts(
        "b", providers=PROVIDERS, campaign_primary="a", campaign_fallback=chain
    ) == ["c"]
    assert (
        fallback_accounts("c", providers=PROVIDERS, campaign_primary="a", campaign_fallback=chain)
        == []
    )
