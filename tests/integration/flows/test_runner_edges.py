"""The runner's edges: a lease left by a dead runner, a template that lacks a variable, a
workspace keyword as trigger, an archived flow, a person erased mid-flow."""

from __future__ import annotations

import datetime as dt

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

from textopt.config import Settings
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.flows import commands, service
from textopt.flows.runner import LEASE, claim_runs
from textopt.gdpr.service import erase_person

SHIPPED = {
    "name": "Expedition",
    "trigger": {"kind": "event", "event": "order_shipped", "key": "order"},
    "steps": [
        {"kind": "wait", "duration": "2h"},
        {
            "kind": "send",
            "purpose": "transactional",
            "template": "Votre commande {{ event.order }} est partie",
        },
    ],
}


def _shipped(engine: Engine, settings: Settings, **properties: str) -> int:
    with session_scope(engine) as s:
        active_flow(s, SHIPPED, now=WEDNESDAY_10H)
        contact = add_contact(s, "+33612348001", consent_at=None)
        add_event(s, settings, contact, "order_shipped", now=WEDNESDAY_10H, **properties)
        return contact.id


def test_occurrences_a_dead_runner_claimed_are_taken_once_its_lease_is_over(
    engine: Engine, campaign_settings: Settings
) -> None:
    _shipped(engine, campaign_settings, order="C-1")
    run_at(engine, campaign_settings, WEDNESDAY_10H)
    due = WEDNESDAY_10H + dt.timedelta(hours=2)
    with session_scope(engine) as s:  # claimed, committed, and the runner died
        assert len(claim_runs(s, owner="dead-runner", now=due)) == 1
    assert run_at(engine, campaign_settings, due + dt.timedelta(minutes=1))[1].claimed == 0
    _, tally = run_at(engine, campaign_settings, due + LEASE + dt.timedelta(seconds=1))
    assert (tally.claimed, tally.sent) == (1, 1)
    assert [m.body for m in flow_messages(engine)] == ["Votre commande C-1 est partie"]


def test_a_template_missing_its_variable_ends_the_occurrence_with_the_reason(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        flow = dict(SHIPPED, trigger={"kind": "event", "event": "order_shipped"})
        active_flow(s, flow, now=WEDNESDAY_10H)
        contact = add_contact(s, "+33612348002", consent_at=None)
        add_event(s, campaign_settings, contact, "order_shipped", now=WEDNESDAY_10H)
    run_at(engine, campaign_settings, WEDNESDAY_10H)
    run_at(engine, campaign_settings, WEDNESDAY_10H + dt.timedelta(hours=3))
    [run] = runs(engine)
    assert (run.state, run.exit_reason) == ("exited", "template_error")
    with session_scope(engine) as s:
        [entry] = service.run_logs(s, run_ids=[run.id])[run.id][-1:]
        assert entry.reason_text is not None
        assert entry.reason_text.startswith("step 2 (send): ")
        assert "order" in entry.reason_text
    assert flow_messages(engine) == []


def test_a_workspace_keyword_starts_a_flow_by_its_event(
    engine: Engine, campaign_settings: Settings
) -> None:
    with session_scope(engine) as s:
        flow = {
            "name": "Horaires",
            "trigger": {"kind": "event", "event": "keyword.horaires"},
            "steps": [{"kind": "send", "purpose": "transactional", "template": "Merci !"}],
        }
        active_flow(s, flow, now=WEDNESDAY_10H)
        contact = add_contact(s, "+33612348003", consent_at=None)
        add_event(s, campaign_settings, contact, "keyword.horaires", now=WEDNESDAY_10H)
    _, tally = run_at(engine, campaign_settings, WEDNESDAY_10H)
    assert tally.sent == 1


def test_archiving_a_flow_exits_its_open_occurrences(
    engine: Engine, campaign_settings: Settings
) -> None:
    _shipped(engine, campaign_settings, order="C-2")
    run_at(engine, campaign_settings, WEDNESDAY_10H)
    with session_scope(engine) as s:
        commands.archive_flow(s, actor=OPERATOR, name_or_id="Expedition", now=WEDNESDAY_10H)
    run_at(engine, campaign_settings, WEDNESDAY_10H + dt.timedelta(hours=3))
    assert [(r.state, r.exit_reason) for r in runs(engine)] == [("exited", "flow_archived")]
    assert step_log(engine)[-1][2:] == ("exited", "flow_archived")
    assert flow_messages(engine) == []


def test_an_erasure_ends_the_person_occurrences_and_forgets_what_started_them(
    engine: Engine, campaign_settings: Settings
) -> None:
    contact_id = _shipped(engine, campaign_settings, order="C-3")
    run_at(engine, campaign_settings, WEDNESDAY_10H)
    with session_scope(engine) as s:
        contact = s.get(Contact, contact_id)
        assert contact is not None
        erase_person(s, contact=contact, settings=campaign_settings)
    run_at(engine, campaign_settings, WEDNESDAY_10H + dt.timedelta(hours=3))
    [run] = runs(engine)
    assert (run.state, run.exit_reason, run.trigger) == ("exited", "contact_erased", {})
    assert run.occurrence_key == f"erased:{run.id}"
    assert flow_messages(engine) == []
