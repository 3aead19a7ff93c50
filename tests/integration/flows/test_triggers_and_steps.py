"""Triggers and steps on both databases: a date attribute read in the recipient's zone, a
birthday once a year at a local hour, a welcome after an opt-in, a segment entered,
marketing refused with its reason, STOP ending a flow, versions kept by running occurrences,
a paused flow that does not move."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from sqlalchemy import Engine
from tests.factories.campaigns import WEDNESDAY_10H, add_contact
from tests.factories.flows import (
    OPERATOR,
    active_flow,
    add_event,
    flow_messages,
    run_at,
    runs,
    step_log,
)
from tests.factories.keys import TEST_DIGEST

from textopt.config import Settings
from textopt.consent import service as consent
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.flows import commands

UTC = dt.UTC


def _send(purpose: str = "transactional", text: str = "Bonjour {{ first_name }}") -> dict[str, Any]:
    return {"kind": "send", "channel": "sms", "purpose": purpose, "template": text}


def test_a_date_attribute_reminder_is_due_24_hours_before_in_the_recipient_zone(
    engine: Engine, campaign_settings: Settings
) -> None:
    flow = {
        "name": "Rappel",
        "trigger": {"kind": "date_attribute", "attribute": "appointment_at"},
        "steps": [{"kind": "wait", "until": "appointment_at - 24h"}, _send()],
    }
    now = dt.datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        # 09:00 in New York without an offset: read in the contact's own zone
        add_contact(
            s, "+33612340001", consent_at=None, timezone="America/New_York",
            first_name="Ana", attributes={"appointment_at": "2026-12-10T09:00"},
        )  # fmt: skip
        add_contact(
            s, "+33612340002", consent_at=None, attributes={"appointment_at": "2026-12-01"}
        )  # in the past: no occurrence
        active_flow(s, flow, now=now)
    started, _ = run_at(engine, campaign_settings, now)
    assert started == 1
    [run] = runs(engine)
    assert run.due_at == dt.datetime(2026, 12, 9, 14, 0, tzinfo=UTC)  # 09:00 EST - 24h
    run_at(engine, campaign_settings, dt.datetime(2026, 12, 9, 13, 59, tzinfo=UTC))
    assert flow_messages(engine) == []
    _, tally = run_at(engine, campaign_settings, dt.datetime(2026, 12, 9, 14, 0, tzinfo=UTC))
    assert tally.sent == 1
    assert flow_messages(engine)[0].body == "Bonjour Ana"
    # the same date read again later starts nothing new
    started, _ = run_at(engine, campaign_settings, dt.datetime(2026, 12, 9, 15, 0, tzinfo=UTC))
    assert started == 0


def test_a_birthday_message_goes_once_a_year_at_the_local_hour(
    engine: Engine, campaign_settings: Settings
) -> None:
    flow = {
        "name": "Anniversaire",
        "trigger": {
            "kind": "date_attribute",
            "attribute": "birthday",
            "yearly": True,
            "at": "10:00",
        },
        "steps": [_send("marketing", "Joyeux anniversaire ! -15% aujourd'hui")],
    }
    start = dt.datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        add_contact(s, "+33612340003", attributes={"birthday": "1990-11-25"}, tags=("vip",))
        active_flow(s, flow, now=start)
    started, _ = run_at(engine, campaign_settings, start)
    assert started == 1
    [run] = runs(engine)
    assert run.due_at == dt.datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 10:00 in Paris
    for hour in (9, 12, 18):  # the day goes by, the scan runs again: once
        run_at(engine, campaign_settings, dt.datetime(2026, 11, 25, hour, 0, tzinfo=UTC))
    assert len(flow_messages(engine)) == 1
    assert [r.occurrence_key for r in runs(engine)] == ["year=2026"]
    run_at(engine, campaign_settings, dt.datetime(2027, 11, 25, 9, 0, tzinfo=UTC))
    assert [r.occurrence_key for r in runs(engine)] == ["year=2026", "year=2027"]
    assert len(flow_messages(engine)) == 2


def test_an_opt_in_gets_one_welcome_and_an_import_none(
    engine: Engine, campaign_settings: Settings
) -> None:
    flow = {
        "name": "Bienvenue",
        "trigger": {"kind": "optin_confirmed", "channel": "sms"},
        "steps": [_send("marketing", "Bienvenue chez Boutique !")],
    }
    with session_scope(engine) as s:
        active_flow(s, flow, now=WEDNESDAY_10H)
        form = add_contact(s, "+33612340004", consent_at=None)
        imported = add_contact(s, "+33612340005", consent_at=None)
        for contact, source in ((form, "form"), (imported, "import"), (form, "keyword")):
            consent.record_consent(
                s, digest=TEST_DIGEST, contact_id=contact.id, channel="sms",
                purpose="marketing", action="granted", source=source,
                occurred_at=WEDNESDAY_10H, proof={"phone": contact.phone},
            )  # fmt: skip
        form_id = form.id
    started, tally = run_at(engine, campaign_settings, WEDNESDAY_10H + dt.timedelta(minutes=1))
    assert (started, tally.sent) == (1, 1)
    [message] = flow_messages(engine)
    assert message.contact_id == form_id
    assert (message.status, message.reason) == ("planned", None)


def test_entering_a_segment_starts_an_occurrence_but_being_in_it_at_activation_does_not(
    engine: Engine, campaign_settings: Settings
) -> None:
    flow = {
        "name": "VIP",
        "trigger": {"kind": "segment_entered", "segment": "tag:gold"},
        "steps": [_send(text="Bienvenue parmi nos clients gold")],
    }
    with session_scope(engine) as s:
        add_contact(s, "+33612340006", tags=("gold",), consent_at=None)
        newcomer = add_contact(s, "+33612340007", tags=("silver",), consent_at=None)
        active_flow(s, flow, now=WEDNESDAY_10H)
        newcomer_id = newcomer.id
    assert run_at(engine, campaign_settings, WEDNESDAY_10H)[0] == 0
    from textopt.contacts.service import tag_contacts

    with session_scope(engine) as s:
        tag_contacts(s, contact_ids=[newcomer_id], tags=["gold"])
    assert run_at(engine, campaign_settings, WEDNESDAY_10H + dt.timedelta(minutes=2))[0] == 0
    started, _ = run_at(engine, campaign_settings, WEDNESDAY_10H + dt.timedelta(minutes=6))
    assert started == 1
    assert [m.contact_id for m in flow_messages(engine)] == [newcomer_id]


def test_marketing_without_consent_or_in_quiet_hours_is_refused_with_its_reason(
    engine: Engine, campaign_settings: Settings
) -> None:
    flow = {
        "name": "Promo",
        "trigger": {"kind": "event", "event": "visited"},
        "steps": [{**_send("marketing", "Soldes -20%"), "validity": "1h"}],
    }
    late = dt.datetime(2026, 11, 25, 22, 30, tzinfo=UTC)  # 23:30 in Paris
    with session_scope(engine) as s:
        active_flow(s, flow, now=late)
        stranger = add_contact(s, "+33612340008", consent_at=None)
        client = add_contact(s, "+33612340009")
        add_event(s, campaign_settings, stranger, "visited", now=late)
        add_event(s, campaign_settings, client, "visited", now=late)
    _, tally = run_at(engine, campaign_settings, late)
    assert tally.skipped == 2
    reasons = sorted((m.reason, bool(m.reason_text)) for m in flow_messages(engine))
    assert reasons == [("expired", True), ("no_consent", True)]  # expired in the quiet hours
    assert "outside the allowed hours" in (flow_messages(engine)[1].reason_text or "")
    assert sorted(r for *_, r in step_log(engine) if r) == ["expired", "no_consent"]
    assert sorted(m.status for m in flow_messages(engine)) == ["blocked", "expired"]


def test_a_stop_ends_a_marketing_flow_while_it_waits(
    engine: Engine, campaign_settings: Settings
) -> None:
    flow = {
        "name": "Relance",
        "trigger": {"kind": "event", "event": "cart_abandoned"},
        "steps": [
            {"kind": "wait", "duration": "2h"},
            _send("marketing", "Votre panier vous attend"),
        ],
    }
    with session_scope(engine) as s:
        active_flow(s, flow, now=WEDNESDAY_10H)
        contact = add_contact(s, "+33612340010")
        add_event(s, campaign_settings, contact, "cart_abandoned", now=WEDNESDAY_10H)
        contact_id = contact.id
    run_at(engine, campaign_settings, WEDNESDAY_10H)
    with session_scope(engine) as s:
        consent.record_consent(
            s, digest=TEST_DIGEST, contact_id=contact_id, channel="sms", purpose="marketing",
            action="revoked", source="keyword", occurred_at=WEDNESDAY_10H,
        )  # fmt: skip
    run_at(engine, campaign_settings, WEDNESDAY_10H + dt.timedelta(hours=3))
    assert flow_messages(engine) == []
    [run] = runs(engine)
    assert (run.state, run.exit_reason) == ("exited", "consent_revoked")


def test_running_occurrences_keep_their_version_and_new_ones_take_the_latest(
    engine: Engine, campaign_settings: Settings
) -> None:
    first = {
        "name": "Suivi",
        "trigger": {"kind": "event", "event": "order_shipped"},
        "steps": [{"kind": "wait", "duration": "1d"}, _send(text="Version 1")],
    }
    second = copy.deepcopy(first)
    second["steps"][1]["template"] = "Version 2"
    with session_scope(engine) as s:
        active_flow(s, first, now=WEDNESDAY_10H)
        early = add_contact(s, "+33612340011", consent_at=None)
        add_event(s, campaign_settings, early, "order_shipped", now=WEDNESDAY_10H)
    run_at(engine, campaign_settings, WEDNESDAY_10H)
    with session_scope(engine) as s:
        commands.add_flow_version(
            s, actor=OPERATOR, name_or_id="Suivi", definition=second, now=WEDNESDAY_10H
        )
        late = add_contact(s, "+33612340012", consent_at=None)
        add_event(s, campaign_settings, late, "order_shipped", now=WEDNESDAY_10H)
    run_at(engine, campaign_settings, WEDNESDAY_10H + dt.timedelta(minutes=1))
    run_at(engine, campaign_settings, WEDNESDAY_10H + dt.timedelta(days=2))
    with session_scope(engine) as s:
        phones = {c.id: c.phone for c in s.query(Contact)}
    bodies = {phones[m.contact_id or 0]: m.body for m in flow_messages(engine)}
    assert bodies == {"+33612340011": "Version 1", "+33612340012": "Version 2"}


def test_a_paused_flow_starts_and_moves_nothing(
    engine: Engine, campaign_settings: Settings
) -> None:
    flow = {
        "name": "Pause",
        "trigger": {"kind": "event", "event": "visited"},
        "steps": [_send(text="Merci de votre visite")],
    }
    with session_scope(engine) as s:
        active_flow(s, flow, now=WEDNESDAY_10H)
        contact = add_contact(s, "+33612340013", consent_at=None)
        add_event(s, campaign_settings, contact, "visited", now=WEDNESDAY_10H)
        commands.pause_flow(s, actor=OPERATOR, name_or_id="Pause", now=WEDNESDAY_10H)
    started, tally = run_at(engine, campaign_settings, WEDNESDAY_10H + dt.timedelta(minutes=1))
    assert (started, tally.claimed) == (0, 0)
    assert flow_messages(engine) == []


def test_a_condition_lets_the_matching_contacts_on_and_ends_the_others(
    engine: Engine, campaign_settings: Settings
) -> None:
    flow = {
        "name": "VIP seulement",
        "trigger": {"kind": "event", "event": "visited"},
        "steps": [
            {"kind": "condition", "segment": "tag:vip"},
            _send(text="Merci de votre visite"),
        ],
    }
    with session_scope(engine) as s:
        active_flow(s, flow, now=WEDNESDAY_10H)
        vip = add_contact(s, "+33612340021", consent_at=None, tags=("vip",))
        other = add_contact(s, "+33612340022", consent_at=None, tags=("client",))
        for contact in (vip, other):
            add_event(s, campaign_settings, contact, "visited", now=WEDNESDAY_10H)
        vip_id = vip.id
    run_at(engine, campaign_settings, WEDNESDAY_10H)
    assert [m.contact_id for m in flow_messages(engine)] == [vip_id]
    assert sorted((r.state, r.exit_reason) for r in runs(engine)) == [
        ("completed", None),
        ("exited", "condition_false"),
    ]


def test_a_moved_appointment_gets_its_own_reminder_and_the_old_one_ends(
    engine: Engine, campaign_settings: Settings
) -> None:
    flow = {
        "name": "Rappel",
        "trigger": {"kind": "date_attribute", "attribute": "appointment_at"},
        "steps": [{"kind": "wait", "until": "appointment_at - 24h"}, _send(text="A demain")],
    }
    now = dt.datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        contact = add_contact(
            s, "+33612340031", consent_at=None,
            attributes={"appointment_at": "2026-12-10T09:00:00+01:00"},
        )  # fmt: skip
        active_flow(s, flow, now=now)
        contact_id = contact.id
    run_at(engine, campaign_settings, now)
    with session_scope(engine) as s:
        moved = s.get(Contact, contact_id)
        assert moved is not None
        moved.attributes = {"appointment_at": "2026-12-12T09:00:00+01:00"}
    run_at(engine, campaign_settings, now + dt.timedelta(minutes=10))
    run_at(engine, campaign_settings, dt.datetime(2026, 12, 11, 8, 0, tzinfo=UTC))
    states = sorted((r.occurrence_key[-25:], r.state, r.exit_reason) for r in runs(engine))
    assert states == [
        ("2026-12-10T08:00:00+00:00", "exited", "date_changed"),
        ("2026-12-12T08:00:00+00:00", "completed", None),
    ]
    assert len(flow_messages(engine)) == 1
