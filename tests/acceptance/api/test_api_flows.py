"""`/v1/flows`: create, list, read, version, activate, pause, stats, a contact's occurrences and
a preview; bad definitions answered 422 with the step and field named; scopes enforced."""

from __future__ import annotations

import copy

from sqlalchemy import Engine, select
from tests.factories.api import ApiClient
from tests.factories.campaigns import add_contact
from tests.factories.flows import REMINDER

from textopt.accounts.models import AuditEntry
from textopt.db.engine import session_scope


def test_a_flow_is_created_versioned_activated_paused_and_read(
    admin: ApiClient, engine: Engine
) -> None:
    created = admin.post("/v1/flows", json=REMINDER)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["state"], body["latest_version"]) == ("draft", 1)
    assert body["definition"]["steps"][0] == {"kind": "wait", "until": "appointment_at - 1d"}
    assert [f["name"] for f in admin.get("/v1/flows").json()] == [REMINDER["name"]]
    assert admin.post("/v1/flows", json=REMINDER).status_code == 409

    changed = copy.deepcopy(REMINDER)
    changed["steps"][0]["until"] = "appointment_at - 2h"
    version = admin.post(f"/v1/flows/{body['id']}/versions", json=changed)
    assert version.status_code == 201, version.text
    assert version.json()["number"] == 2
    assert (
        admin.get(f"/v1/flows/{body['id']}/versions/1").json()["definition"] == body["definition"]
    )
    assert admin.post(f"/v1/flows/{body['id']}/activate").json()["state"] == "active"
    assert admin.post(f"/v1/flows/{body['id']}/pause").json()["state"] == "paused"
    assert admin.post(f"/v1/flows/{body['id']}/archive").json()["state"] == "archived"
    refused = admin.post(f"/v1/flows/{body['id']}/activate")
    assert refused.status_code == 409, refused.text
    stats = admin.get(f"/v1/flows/{body['id']}/stats").json()
    assert [v["version"] for v in stats] == [2, 1]
    assert [s["kind"] for s in stats[0]["steps"]] == ["trigger", "wait", "send"]
    with session_scope(engine) as s:
        audited = s.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "flow")).all()
    assert audited == [
        "flow.created",
        "flow.versioned",
        "flow.active",
        "flow.paused",
        "flow.archived",
    ]


def test_a_bad_definition_names_the_step_and_the_field(admin: ApiClient) -> None:
    wrong = copy.deepcopy(REMINDER)
    wrong["steps"][0]["until"] = "appointment_at - 24x"
    answer = admin.post("/v1/flows", json=wrong)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["field"] == "steps[0].until"
    assert "step 1 (wait): 'appointment_at - 24x' is not a duration" in problem["detail"]


def test_reading_needs_read_and_activating_needs_launch(
    admin: ApiClient, viewer: ApiClient
) -> None:
    flow = admin.post("/v1/flows", json=REMINDER).json()
    assert viewer.get(f"/v1/flows/{flow['id']}").status_code == 200
    assert viewer.post("/v1/flows", json=REMINDER).status_code == 403
    assert viewer.post(f"/v1/flows/{flow['id']}/activate").status_code == 403


def test_a_preview_shows_the_time_in_the_contact_zone_and_writes_nothing(
    admin: ApiClient, engine: Engine
) -> None:
    with session_scope(engine) as s:
        contact = add_contact(
            s, "+33612345009", consent_at=None,
            attributes={"appointment_at": "2030-03-12T15:00:00"},
        )  # fmt: skip
        contact_id = contact.id
    flow = admin.post("/v1/flows", json=REMINDER).json()
    steps = admin.post(f"/v1/flows/{flow['id']}/preview", json={"contact_id": contact_id}).json()
    assert [(s["kind"], s["outcome"]) for s in steps] == [
        ("trigger", "entered"),
        ("wait", "waiting"),
        ("send", "sent"),
        ("end", "completed"),
    ]
    assert steps[1]["local"] == "2030-03-11 15:00 CET"
    assert "12 mars 2030" in steps[2]["text"]
    assert admin.get(f"/v1/contacts/{contact_id}/flows").json() == []
    assert admin.get(f"/v1/flows/{flow['id']}/occurrences").json() == []
    from textopt.outbox.models import Message

    with session_scope(engine) as s:
        assert s.scalars(select(Message)).all() == []
