"""The in-memory token bucket of public routes."""

from __future__ import annotations

import pytest

from textopt.accounts.limits import RequestLimiter, number_prefix
from textopt.errors import RateLimited


def test_a_client_gets_its_burst_then_waits_for_the_refill() -> None:
    now = [0.0]
    limiter = RequestLimiter(clock=lambda: now[0])
    for _ in range(3):
        limiter.take("login", "1.2.3.4", capacity=3, per_seconds=60)
    with pytest.raises(RateLimited) as refused:
        limiter.take("login", "1.2.3.4", capacity=3, per_seconds=60)
    assert refused.value.retry_after == 20  # one token every 20 s
    limiter.take("login", "5.6.7.8", capacity=3, per_seconds=60)  # another client
    limiter.take("public", "1.2.3.4", capacity=3, per_seconds=60)  # another group
    now[0] = 20.0
    limiter.take("login", "1.2.3.4", capacity=3, per_seconds=60)
    with pytest.raises(RateLimited):
        limiter.take("login", "1.2.3.4", capacity=3, per_seconds=60)


def test_numbers_differing_in_their_last_four_digits_share_a_prefix() -> None:
    assert number_prefix("+33612345678") == number_prefix("+33612340000") == "+3361234"
