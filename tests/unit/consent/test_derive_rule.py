"""The derived consent state as a function of the ledger: a revocation recorded after a
grant always wins, a request never demotes a consent (properties over random ledgers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from textopt.consent.derive import derive_state

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
ACTIONS = ("requested", "granted", "confirmed", "revoked")


def _events(specs: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [
        {"id": n + 1, "action": action, "source": "form", "occurred_at": T0 + dt.timedelta(days=d)}
        for n, (action, d) in enumerate(specs)
    ]


EVENTS = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=-3000, max_value=3000)),
    max_size=8,
)


@given(EVENTS, st.integers(min_value=-3000, max_value=3000))
def test_a_revocation_recorded_last_always_wins(specs: list[tuple[str, int]], day: int) -> None:
    state = derive_state(_events([*specs, ("revoked", day)]))
    assert state is not None
    assert (state.status, state.event_id) == ("revoked", len(specs) + 1)


@given(EVENTS, st.integers(min_value=-3000, max_value=3000))
def test_a_request_never_replaces_a_consent(specs: list[tuple[str, int]], day: int) -> None:
    before = derive_state(_events(specs))
    after = derive_state(_events([*specs, ("requested", day)]))
    if before is not None and before.status in ("granted", "confirmed"):
        assert after == before


@given(EVENTS)
def test_a_consent_in_force_is_outranked_by_no_revocation(specs: list[tuple[str, int]]) -> None:
    """The rule `supported_state` checks in SQL agrees with the fold."""
    events = _events(specs)
    state = derive_state(events)
    if state is None or state.status not in ("granted", "confirmed"):
        return
    grant = events[state.event_id - 1]
    assert not any(
        e["action"] == "revoked"
        and (e["id"] > grant["id"] or e["occurred_at"] > grant["occurred_at"])
        for e in events
    )


def test_a_grant_far_in_the_future_loses_to_a_later_revocation() -> None:
    state = derive_state(_events([("granted", 2_900_000), ("revoked", 0)]))
    assert state is not None
    assert state.status == "revoked"


def test_an_old_consent_recorded_after_a_stop_does_not_revive_it() -> None:
    state = derive_state(_events([("granted", 0), ("revoked", 10), ("granted", 5)]))
    assert state is not None
    assert (state.status, state.event_id) == ("revoked", 2)
    state = derive_state(_events([("granted", 0), ("revoked", 10), ("granted", 12)]))
    assert state is not None
    assert (state.status, state.event_id) == ("granted", 3)


@given(EVENTS)
def test_a_grant_no_revocation_outranks_leaves_a_consent_in_force(
    specs: list[tuple[str, int]],
) -> None:
    events = _events(specs)
    state = derive_state(events)
    for grant in events:
        if grant["action"] not in ("granted", "confirmed"):
            continue
        outranked = any(
            e["action"] == "revoked"
            and (e["id"] > grant["id"] or e["occurred_at"] > grant["occurred_at"])
            for e in events
        )
        if not outranked:
            assert state is not None
            assert state.status in ("granted", "confirmed")


LIMITS = ("limit-2-a-month", "limit-1-a-week", "limit-default")


@given(EVENTS, st.lists(st.sampled_from(LIMITS), min_size=1, max_size=4))
def test_a_limit_never_changes_the_consent_and_the_last_one_is_the_frequency(
    specs: list[tuple[str, int]], limits: list[str]
) -> None:
    without = derive_state(_events(specs))
    mixed = [*specs, *((limit, 0) for limit in limits)]
    state = derive_state(_events(mixed))
    if without is None:
        assert state is None  # a limit alone is no state: nothing to send anyway
        return
    assert state is not None
    assert (state.status, state.source, state.event_id) == (
        without.status,
        without.source,
        without.event_id,
    )
    expected = {"limit-2-a-month": "2-a-month", "limit-1-a-week": "1-a-week"}.get(limits[-1])
    assert state.frequency == expected
