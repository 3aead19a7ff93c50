"""Properties of `decide()` over generated recipients, instants, histories and workspaces.

- a DEFER's instant is itself allowed by every rule (deciding again at that instant sends),
  and it is the earliest: one second before it is not allowed;
- no marketing SEND falls outside the allowed window of any candidate zone (checked here
  with zoneinfo and the `holidays` package directly, not with the engine's own windows);
- decide is deterministic, with warm or cold caches.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from random import Random
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textopt.policy import (
    ContactFacts,
    Decision,
    MessageFacts,
    SendRecord,
    Verdict,
    WorkspacePolicy,
    decide,
    get_pack,
    history_key,
)
from textopt.policy import selection as selection_module
from textopt.policy import windows as windows_module
from textopt.vocab import Channel, Purpose

# (country, number, zones of the number, region, holiday subdivision the region implies)
RECIPIENTS = [
    ("FR", "+33612345678", ("Europe/Paris",), None, None),
    ("FR", "+33612345678", ("Europe/Paris",), "67", "6AE"),
    ("FR", "+33612345678", ("Europe/Paris",), "57", "57"),
    ("RE", "+262692123456", ("Indian/Reunion",), None, "974"),
    ("US", "+13055550123", ("America/New_York",), None, "FL"),
    ("US", "+12125550123", ("America/New_York",), "OK", "OK"),
    ("US", "+12085550123", ("America/Boise", "America/Los_Angeles"), None, "ID"),
    ("CA", "+17095550123", ("America/Halifax", "America/St_Johns"), None, "NL"),
    ("GB", "+447400123456", ("Europe/London",), None, None),
    ("DE", "+4915112345678", ("Europe/Berlin",), None, None),
    ("ES", "+34612345678", ("Atlantic/Canary", "Europe/Madrid"), None, None),
    ("BE", "+32470123456", ("Europe/Brussels",), None, None),
    ("JP", "+819012345678", ("Asia/Tokyo",), None, None),
    (
        "AU",
        "+61412345678",
        ("Australia/Adelaide", "Australia/Lord_Howe", "Australia/Perth", "Australia/Sydney"),
        None,
        None,
    ),
]
# Zones with unusual changes: at midnight, by 30 minutes, far east and west.
ODD_ZONES = [
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Europe/Paris",
    "America/New_York",
]
# The module, not the function `textopt.policy.decide` that the package re-exports.
decide_module = importlib.import_module("textopt.policy.decide")
START = dt.datetime(2025, 1, 1)
END = dt.datetime(2027, 12, 31)


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[ContactFacts, MessageFacts, dt.datetime, list[SendRecord], WorkspacePolicy, str | None]:
    country, e164, zones, region, subdivision = draw(st.sampled_from(RECIPIENTS))
    zone_choice = draw(st.sampled_from(["number", "explicit", "odd"]))
    explicit = None
    if zone_choice == "explicit":
        explicit = draw(st.sampled_from(zones))
    elif zone_choice == "odd":
        zones = tuple(
            draw(st.lists(st.sampled_from(ODD_ZONES), min_size=1, max_size=3, unique=True))
        )
    customer = draw(st.booleans())
    consent = draw(st.sampled_from(["granted", "confirmed", None]))
    facts = ContactFacts(
        e164=e164,
        country=country,
        region=region,
        timezone=explicit,
        timezones=zones,
        consents={("sms", "marketing"): consent, ("email", "marketing"): consent},
        email="a@example.com",
        is_customer=customer,
        soft_opt_in_eligible=customer,
    )
    now = draw(st.datetimes(min_value=START, max_value=END, timezones=st.just(dt.UTC)))
    purpose = draw(st.sampled_from([Purpose.MARKETING] * 4 + [Purpose.TRANSACTIONAL]))
    channel = draw(st.sampled_from([Channel.SMS] * 3 + [Channel.EMAIL]))
    expires = draw(st.none() | st.timedeltas(dt.timedelta(0), dt.timedelta(days=12)))
    message = MessageFacts(
        channel=channel, purpose=purpose, expires_at=None if expires is None else now + expires
    )
    offsets = draw(
        st.lists(st.timedeltas(dt.timedelta(days=-40), dt.timedelta(days=5)), max_size=6)
    )
    record_channels = draw(st.lists(st.sampled_from(list(Channel)), min_size=6, max_size=6))
    history = [SendRecord(now + d, c) for d, c in zip(offsets, record_channels, strict=False)]
    workspace = WorkspacePolicy(
        max_per_day=draw(st.sampled_from([None, 0, 1, 2, 3])),
        max_per_30_days=draw(st.sampled_from([None, 2, 4, 10])),
        caps_across_channels=draw(st.booleans()),
        earliest=draw(st.sampled_from([None, dt.time(9), dt.time(10, 30)])),
        latest=draw(st.sampled_from([None, dt.time(19), dt.time(17, 45)])),
        days=draw(st.sampled_from([None, frozenset(range(5)), frozenset({1, 3, 5})])),
        block_holidays=draw(st.booleans()),
    )
    return facts, message, now, history, workspace, subdivision


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _minutes(value: dt.time | None, default: int, pick: Callable[[int, int], int]) -> int:
    return default if value is None else pick(default, value.hour * 60 + value.minute)


def _assert_allowed_everywhere(
    decision: Decision,
    facts: ContactFacts,
    workspace: WorkspacePolicy,
    subdivision: str | None,
    instant: dt.datetime,
) -> None:
    """An independent check that `instant` lies in the allowed window of every zone."""
    pack = get_pack(decision.pack)
    start = _minutes(workspace.earliest, pack.hours.start, max)
    end = _minutes(workspace.latest, pack.hours.end, min)
    days = pack.hours.days if workspace.days is None else pack.hours.days & workspace.days
    for name in decision.timezones:
        local = instant.astimezone(ZoneInfo(name))
        assert local.weekday() in days, (name, local)
        assert start <= local.hour * 60 + local.minute < end, (name, local)
        if pack.holidays.blocked or workspace.block_holidays:
            country = pack.holidays.country or facts.country
            assert country is not None
            calendar = holidays.country_holidays(country, subdiv=subdivision, years=local.year)
            assert local.date() not in calendar, (name, local, calendar.get(local.date()))


@SETTINGS
@given(scenarios())
def test_a_deferred_instant_is_allowed_by_every_rule_and_is_the_earliest(
    scenario: tuple[
        ContactFacts, MessageFacts, dt.datetime, list[SendRecord], WorkspacePolicy, str | None
    ],
) -> None:
    facts, message, now, history, workspace, subdivision = scenario
    decision = decide(facts, message, now, history, workspace)
    if decision.verdict is not Verdict.DEFER:
        return
    assert decision.at is not None
    assert decision.at > now
    if message.expires_at is not None:
        assert decision.at < message.expires_at
    again = decide(facts, message, decision.at, history, workspace)
    assert again.verdict is Verdict.SEND, again.sentence
    if message.purpose is Purpose.MARKETING:
        _assert_allowed_everywhere(decision, facts, workspace, subdivision, decision.at)
    just_before = decision.at - dt.timedelta(seconds=1)
    if just_before > now:
        assert decide(facts, message, just_before, history, workspace).verdict is not Verdict.SEND


@SETTINGS
@given(scenarios())
def test_no_marketing_send_falls_outside_any_candidate_zones_window(
    scenario: tuple[
        ContactFacts, MessageFacts, dt.datetime, list[SendRecord], WorkspacePolicy, str | None
    ],
) -> None:
    facts, message, now, history, workspace, subdivision = scenario
    decision = decide(facts, message, now, history, workspace)
    if decision.verdict is Verdict.SEND and message.purpose is Purpose.MARKETING:
        assert decision.at == now
        _assert_allowed_everywhere(decision, facts, workspace, subdivision, now)


@SETTINGS
@given(scenarios())
def test_decide_is_deterministic_with_warm_or_cold_caches(
    scenario: tuple[
        ContactFacts, MessageFacts, dt.datetime, list[SendRecord], WorkspacePolicy, str | None
    ],
) -> None:
    facts, message, now, history, workspace, _ = scenario
    first = decide(facts, message, now, history, workspace)
    assert decide(facts, message, now, list(reversed(history)), workspace) == first
    windows_module.day_intervals.cache_clear()
    selection_module._select.cache_clear()
    decide_module._RULES.clear()
    assert decide(facts, message, now, history, workspace) == first


@SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_histories_with_one_key_share_one_decision(
    scenario: tuple[
        ContactFacts, MessageFacts, dt.datetime, list[SendRecord], WorkspacePolicy, str | None
    ],
    rng: Random,
) -> None:
    # Planning and the claim's re-check share a decision between recipients whose
    # `history_key` is equal: any order of the same records gives the same key and decision.
    facts, message, now, history, workspace, _ = scenario
    shuffled = list(history)
    rng.shuffle(shuffled)
    key = history_key(history[:2], history[2:])
    assert history_key(shuffled) == key
    assert decide(facts, message, now, key, workspace) == decide(
        facts, message, now, history, workspace
    )
