"""Frequency caps over rolling windows."""

from __future__ import annotations

import datetime as dt

import pytest

from textopt.policy import Cap, cap_allows, cap_next_allowed

H = dt.timedelta(hours=1)
T0 = dt.datetime(2026, 6, 10, 12, tzinfo=dt.UTC)
THREE_PER_DAY = Cap(3, 24 * H, frozenset({"sms"}), "test")
ONE_PER_DAY = Cap(1, 24 * H, frozenset({"sms"}), "test")


def test_a_send_leaves_the_window_exactly_one_window_later() -> None:
    sends = [T0]
    assert not cap_allows(ONE_PER_DAY, sends, T0 + 24 * H - dt.timedelta(seconds=1))
    assert cap_allows(ONE_PER_DAY, sends, T0 + 24 * H)
    assert cap_next_allowed(ONE_PER_DAY, sends, T0 + H) == T0 + 24 * H


def test_three_per_day_allows_the_third_and_defers_the_fourth() -> None:
    sends = [T0 - 20 * H, T0 - 10 * H]
    assert cap_allows(THREE_PER_DAY, sends, T0)
    sends.append(T0)
    assert not cap_allows(THREE_PER_DAY, sends, T0 + H)
    assert cap_next_allowed(THREE_PER_DAY, sends, T0 + H) == T0 + 4 * H  # first leaves


def test_a_planned_send_forbids_an_earlier_one_within_its_window() -> None:
    planned = [T0 + 5 * H]
    assert not cap_allows(ONE_PER_DAY, planned, T0)
    assert cap_allows(ONE_PER_DAY, planned, T0 - 19 * H)  # 24 h before the planned send
    assert cap_next_allowed(ONE_PER_DAY, planned, T0) == T0 + 29 * H


@pytest.mark.parametrize("maximum", [0, -1])
def test_a_cap_of_zero_never_allows(maximum: int) -> None:
    cap = Cap(maximum, 24 * H, frozenset({"sms"}), "test")
    assert not cap_allows(cap, [], T0)
    assert cap_next_allowed(cap, [], T0) is None


def test_describe_names_hours_or_days() -> None:
    assert THREE_PER_DAY.describe() == "3 per 24 h"
    assert Cap(4, 720 * H, frozenset({"sms"}), "test").describe() == "4 per 30 days"
