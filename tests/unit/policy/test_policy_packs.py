"""Packs: every rule cites a source; overlays and workspaces never loosen a legal minimum."""

from __future__ import annotations

import datetime as dt

import pytest

from textopt.errors import NotFoundError, ValidationError
from textopt.policy import (
    ContactFacts,
    MessageFacts,
    Reason,
    Verdict,
    WorkspacePolicy,
    customise_pack,
    decide,
    ensure_not_looser,
    get_pack,
    load_packs,
    loosened_rules,
    pack_names,
)
from textopt.policy.packs import parse_pack

ISSUE_PACKS = ["FR", "FR-af2m-2026", "US", "US-FL", "US-OK", "US-MD", "UK", "CA", "DE", "ES", "BE"]
PARIS_NOON = dt.datetime(2026, 6, 10, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def test_every_pack_of_the_issue_and_a_default_exist() -> None:
    assert set(pack_names()) == {*ISSUE_PACKS, "DEFAULT"}


@pytest.mark.parametrize("name", [*ISSUE_PACKS, "DEFAULT"])
def test_every_rule_of_a_pack_cites_a_source_with_a_confidence(name: str) -> None:
    rows = get_pack(name).rules()
    assert len(rows) >= 6
    for rule, requirement, source, confidence in rows:
        assert requirement, rule
        assert len(source) > 10, rule
        assert confidence in {"H", "M", "L"}, rule


@pytest.mark.parametrize("name", [*ISSUE_PACKS, "DEFAULT"])
def test_every_pack_is_at_least_as_strict_as_its_legal_minimum(name: str) -> None:
    pack = get_pack(name)
    assert loosened_rules(pack, get_pack(pack.legal_minimum)) == ()


def test_french_strict_default_names_the_af2m_charter_as_its_legal_minimum() -> None:
    fr, af2m = get_pack("FR"), get_pack("FR-af2m-2026")
    assert fr.legal_minimum == "FR-af2m-2026"
    assert fr.hours.describe() == "Mon-Sat 08:00-20:00"
    assert af2m.hours.describe() == "every day 08:00-21:30"
    assert fr.holidays.blocked
    assert not af2m.holidays.blocked
    # The legal minimum is looser than the strict default, on hours, days and holidays.
    problems = loosened_rules(af2m, fr)
    assert any(p.startswith("hours: allows Sun") for p in problems)
    assert any(p.startswith("hours: ends at 21:30") for p in problems)
    assert any(p.startswith("holidays:") for p in problems)


@pytest.mark.parametrize("state", ["FL", "OK", "MD"])
def test_state_overlays_inherit_the_federal_pack_and_add_hours_and_a_cap(state: str) -> None:
    overlay, federal = get_pack(f"US-{state}"), get_pack("US")
    assert overlay.inherits == "US"
    assert overlay.regions == (state,)
    assert overlay.hours.describe() == "every day 08:00-20:00"
    assert [(c.max_messages, c.window) for c in overlay.caps] == [(3, dt.timedelta(hours=24))]
    assert overlay.consent == federal.consent
    assert overlay.sender == federal.sender
    assert loosened_rules(overlay, federal) == ()
    assert any(p.startswith("caps:") for p in loosened_rules(federal, overlay))


def test_only_germany_and_the_default_and_north_america_refuse_the_soft_opt_in() -> None:
    refusing = {p.name for p in load_packs().values() if not p.consent.soft_opt_in}
    assert refusing == {"DE", "DEFAULT", "US", "US-FL", "US-OK", "US-MD"}


def test_get_pack_is_case_insensitive_and_names_the_known_packs_when_unknown() -> None:
    assert get_pack("fr").name == "FR"
    with pytest.raises(NotFoundError, match="known packs: BE, CA"):
        get_pack("XX")


def test_a_workspace_may_make_a_pack_stricter() -> None:
    pack = customise_pack(get_pack("FR"), {"hours": {"end": "19:00"}})
    assert pack.customised
    assert pack.hours.describe() == "Mon-Sat 08:00-19:00"
    assert pack.legal_minimum == "FR-af2m-2026"
    ensure_not_looser(pack, get_pack("FR-af2m-2026"))


def test_a_workspace_may_add_a_cap_to_a_pack() -> None:
    extra = {"max": 2, "hours": 168, "channels": ["sms"], "source": "our choice", "confidence": "H"}
    pack = customise_pack(get_pack("US-FL"), {"caps": [extra]})
    assert [c.max_messages for c in pack.caps] == [3, 2]


@pytest.mark.parametrize(
    ("base", "overrides", "rule"),
    [
        ("FR", {"hours": {"end": "22:00"}}, "hours"),  # the legal minimum ends at 21:30
        ("FR", {"hours": {"start": "07:00"}}, "hours"),
        ("US", {"hours": {"end": "21:30"}}, "hours"),  # 47 CFR 64.1200(c)(1)
        ("US-FL", {"hours": {"end": "21:00"}}, "hours"),  # FTSA 20:00
        ("DE", {"consent": {"soft_opt_in": True}}, "consent"),
        ("US", {"sender": {"alphanumeric": True}}, "sender"),
        ("FR", {"sender": {"blocked": []}}, "sender"),
        ("UK", {"footer": {"stop_required": False}}, "footer"),
        ("DEFAULT", {"hours": {"days": ["mon", "sun"]}}, "hours"),
    ],
)
def test_a_workspace_override_that_loosens_raises_naming_the_rule(
    base: str, overrides: dict[str, dict[str, object]], rule: str
) -> None:
    with pytest.raises(ValidationError, match=f"looser than the legal minimum.*{rule}:") as info:
        customise_pack(get_pack(base), overrides)
    assert info.value.field == rule


def test_an_unknown_override_rule_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown rules quiet"):
        customise_pack(get_pack("FR"), {"quiet": {"end": "19:00"}})


def _minimal(**hours: object) -> dict[str, object]:
    cited = {"source": "a text", "confidence": "H"}
    return {
        "name": "T",
        "title": "test",
        "hours": {"days": ["mon"], "start": "08:00", "end": "20:00", **cited, **hours},
        "holidays": {"blocked": False, **cited},
        "consent": {"soft_opt_in": False, **cited},
        "transactional": {"exempt_from_hours": True, "exempt_from_caps": True, **cited},
        "sender": {"alphanumeric": True, "numeric": True, "max_length": 11, "blocked": [], **cited},
        "footer": {"stop_required": True, "text": "STOP", **cited},
    }


def test_a_pack_file_parses_when_complete() -> None:
    assert parse_pack(_minimal(), origin="test").hours.describe() == "Mon 08:00-20:00"


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"source": ""}, "every rule cites its source"),
        ({"confidence": "X"}, "confidence must be H, M or L"),
        ({"end": "8pm"}, "must be HH:MM"),
        ({"start": "21:00"}, "end must be after start"),
        ({"days": ["monday"]}, "unknown day 'monday'"),
        ({"start": "25:00"}, "is not a time of day"),
    ],
)
def test_a_bad_pack_file_is_refused_with_the_field(hours: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_pack(_minimal(**hours), origin="test")


def test_a_pack_file_without_a_table_is_refused() -> None:
    data = _minimal()
    del data["consent"]
    with pytest.raises(ValidationError, match=r"missing table \[consent\]"):
        parse_pack(data, origin="test")


def _facts(e164: str, country: str, zone: str) -> ContactFacts:
    return ContactFacts(
        e164=e164,
        country=country,
        timezones=(zone,),
        consents={("sms", "marketing"): "granted"},
        is_customer=True,
        soft_opt_in_eligible=True,
    )


def test_a_message_may_choose_the_legal_minimum_pack() -> None:
    fr = _facts("+33612345678", "FR", "Europe/Paris")
    at_2045 = PARIS_NOON.replace(hour=20, minute=45)
    assert decide(fr, MessageFacts(), at_2045).verdict is Verdict.DEFER
    chosen = decide(fr, MessageFacts(pack="FR-af2m-2026"), at_2045)
    assert chosen.verdict is Verdict.SEND
    assert chosen.pack == "FR-af2m-2026"


@pytest.mark.parametrize(
    ("e164", "country", "zone", "pack", "rule"),
    [
        ("+13055550123", "US", "America/New_York", "US", "hours"),  # Florida: 20:00 and a cap
        ("+4915112345678", "DE", "Europe/Berlin", "FR", "consent"),  # FR accepts soft opt-in
        ("+12125550123", "US", "America/New_York", "FR-af2m-2026", "hours"),  # 21:30 > 21:00
    ],
)
def test_a_message_cannot_choose_a_pack_looser_than_the_recipients_legal_minimum(
    e164: str, country: str, zone: str, pack: str, rule: str
) -> None:
    with pytest.raises(ValidationError, match="looser than the legal minimum") as info:
        decide(_facts(e164, country, zone), MessageFacts(pack=pack), PARIS_NOON)
    assert info.value.field == rule


def test_the_refusal_lists_every_loosened_rule() -> None:
    florida = _facts("+13055550123", "US", "America/New_York")
    with pytest.raises(
        ValidationError, match=r"hours: ends at 21:00.*caps: lacks a cap of at most 3"
    ):
        decide(florida, MessageFacts(pack="US"), PARIS_NOON)


def test_a_workspace_customised_pack_replaces_the_packaged_one() -> None:
    stricter = customise_pack(get_pack("FR"), {"hours": {"end": "19:00"}})
    workspace = WorkspacePolicy(packs=(stricter,))
    fr = _facts("+33612345678", "FR", "Europe/Paris")
    at_1930 = PARIS_NOON.replace(hour=19, minute=30)
    assert decide(fr, MessageFacts(), at_1930).verdict is Verdict.SEND
    decision = decide(fr, MessageFacts(), at_1930, workspace=workspace)
    assert decision.verdict is Verdict.DEFER
    assert decision.reason is Reason.QUIET_HOURS
