"""`/v1/conversations` and `PUT /v1/contacts/{id}/preferences`: the inbox listed, read,
answered (conversational within 24 hours, the policy after), assigned, closed and reopened
with the `inbox` scope; a person's preferences recorded by the team."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from sqlalchemy import Engine, select
from tests.factories.api import ApiClient, client, make_key
from tests.factories.campaigns import add_contact
from tests.factories.inbound import text_in

from textopt.accounts.models import AuditEntry, Role, Scope
from textopt.accounts.service import Actor, create_user
from textopt.config import Settings
from textopt.consent.models import ConsentEvent
from textopt.db.base import utcnow
from textopt.db.engine import session_scope

OPERATOR = Actor("cli", None, "cli:test", frozenset())
ALICE = "+33612345678"
BOB = "+33698765432"


def _two_conversations(engine: Engine, settings: Settings) -> tuple[int, int]:
    """Alice (no marketing consent) wrote a minute ago; Bob, unknown, two days ago."""
    now = utcnow()
    with session_scope(engine) as s:
        add_contact(s, ALICE, consent_at=None, first_name="Alice")
        text_in(
            s,
            settings,
            sender=ALICE,
            text="Ma commande ?",
            message_id="a",
            at=now - dt.timedelta(minutes=1),
        )
        text_in(
            s, settings, sender=BOB, text="Bonjour", message_id="b", at=now - dt.timedelta(days=2)
        )
    listed = {c["number"]: c["id"] for c in _list(engine, settings)}
    return listed[ALICE], listed[BOB]


def _list(engine: Engine, settings: Settings) -> list[dict[str, object]]:
    from textopt.conversations.service import list_conversations

    with session_scope(engine) as s:
        return [c.as_dict() for c in list_conversations(s, show="all")]


def test_the_inbox_is_listed_read_and_answered_conversationally_once_per_key(
    app: FastAPI, admin: ApiClient, viewer: ApiClient, engine: Engine, campaign_settings: Settings
) -> None:
    alice, bob = _two_conversations(engine, campaign_settings)
    assert viewer.get("/v1/conversations").status_code == 403
    listed = admin.get("/v1/conversations").json()
    assert [(c["id"], c["name"], c["unread"]) for c in listed["items"]] == [
        (alice, "Alice", 1),
        (bob, BOB, 1),
    ]
    first = admin.get("/v1/conversations", params={"limit": 1}).json()
    second = admin.get("/v1/conversations", params={"limit": 1, "after": first["next"]}).json()
    assert ([c["id"] for c in first["items"]], [c["id"] for c in second["items"]]) == (
        [alice],
        [bob],
    )
    assert second["next"] is None
    assert admin.get("/v1/conversations", params={"after": "nope"}).status_code == 422
    detail = admin.get(f"/v1/conversations/{alice}").json()
    assert detail["window"]["conversational"] is True
    assert [(m["direction"], m["text"]) for m in detail["messages"]] == [("in", "Ma commande ?")]
    headers = {"Idempotency-Key": "reply-1"}
    sent = admin.post(
        f"/v1/conversations/{alice}/replies", json={"text": "Elle part demain."}, headers=headers
    )
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert (body["kind"], body["status"], body["reason"], body["text"]) == (
        "conversational",
        "planned",
        None,
        "Elle part demain.",
    )
    again = admin.post(
        f"/v1/conversations/{alice}/replies", json={"text": "Elle part demain."}, headers=headers
    )
    assert (again.status_code, again.json()["message_id"], again.json()["created"]) == (
        200,
        body["message_id"],
        False,
    )
    detail = admin.get(f"/v1/conversations/{alice}").json()
    assert detail["unread"] == 0
    [_, out] = detail["messages"]
    assert (out["direction"], out["reply_kind"]) == ("out", "conversational")
    assert out["replied_by"].startswith("API key admin")
    assert admin.post(f"/v1/conversations/{bob}/read").json()["unread"] == 0


def test_after_24_hours_a_reply_needs_a_kind_and_the_policy_says_why_it_is_not_sent(
    admin: ApiClient, engine: Engine, campaign_settings: Settings
) -> None:
    _, bob = _two_conversations(engine, campaign_settings)
    refused = admin.post(f"/v1/conversations/{bob}/replies", json={"text": "Promo"})
    assert refused.status_code == 422
    assert refused.json()["field"] == "kind"
    assert "24 hours" in refused.json()["detail"]
    blocked = admin.post(
        f"/v1/conversations/{bob}/replies", json={"text": "-20% ce week-end", "kind": "marketing"}
    )
    assert blocked.status_code == 201, blocked.text
    assert (blocked.json()["status"], blocked.json()["reason"]) == ("blocked", "no_consent")
    assert blocked.json()["reason_text"]
    thread = admin.get(f"/v1/conversations/{bob}").json()["messages"]
    assert thread[-1]["reason"] == "no_consent"
    assert (
        admin.post(
            f"/v1/conversations/{bob}/replies", json={"text": "x", "kind": "gossip"}
        ).status_code
        == 422
    )
    assert admin.post(f"/v1/conversations/{bob}/replies", json={"text": ""}).status_code == 422
    assert admin.post("/v1/conversations/999999/replies", json={"text": "x"}).status_code == 404


def test_conversations_are_assigned_closed_and_reopened_and_each_change_is_audited(
    app: FastAPI, admin: ApiClient, engine: Engine, campaign_settings: Settings
) -> None:
    alice, _ = _two_conversations(engine, campaign_settings)
    with session_scope(engine) as s:
        user = create_user(
            s,
            email="agent@example.org",
            password="a long passphrase",
            role=Role.MARKETER,
            created_by=OPERATOR,
        )
        user_id = user.id
    assigned = admin.post(f"/v1/conversations/{alice}/assign", json={"user": "agent@example.org"})
    assert assigned.json()["assigned_to"] == "agent@example.org"
    with client(app, make_key(engine, [Scope.INBOX], name="agent", user=user_id)) as agent:
        mine = agent.get("/v1/conversations", params={"show": "mine"}).json()["items"]
        assert [c["id"] for c in mine] == [alice]
        assert agent.post(f"/v1/conversations/{alice}/close").json()["state"] == "closed"
    assert [
        c["id"] for c in admin.get("/v1/conversations", params={"show": "closed"}).json()["items"]
    ] == [alice]
    assert admin.post(f"/v1/conversations/{alice}/reopen").json()["state"] == "open"
    assert (
        admin.post(f"/v1/conversations/{alice}/assign", json={"user": None}).json()["assigned_to"]
        is None
    )
    assert (
        admin.post(
            f"/v1/conversations/{alice}/assign", json={"user": "nobody@example.org"}
        ).status_code
        == 404
    )
    with session_scope(engine) as s:
        actions = s.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "conversation")
            .order_by(AuditEntry.id)
        ).all()
    assert actions == [
        "conversation.assign",
        "conversation.close",
        "conversation.reopen",
        "conversation.assign",
    ]


def test_the_team_sets_a_persons_preferences_through_the_api(
    admin: ApiClient, viewer: ApiClient, engine: Engine
) -> None:
    with session_scope(engine) as s:
        contact_id = add_contact(s, ALICE).id
    body = {"channels": [{"channel": "sms", "frequency": "2-a-month", "reminders": False}]}
    assert viewer.put(f"/v1/contacts/{contact_id}/preferences", json=body).status_code == 403
    saved = admin.put(f"/v1/contacts/{contact_id}/preferences", json=body)
    assert saved.status_code == 200, saved.text
    sms = saved.json()["preferences"][0]
    assert (sms["promotions"], sms["frequency"], sms["reminders"]) == (
        "subscribed",
        "2-a-month",
        False,
    )
    assert len(saved.json()["events"]) == 2
    same = admin.put(f"/v1/contacts/{contact_id}/preferences", json=body)
    assert same.json()["events"] == []
    lifted = admin.put(
        f"/v1/contacts/{contact_id}/preferences",
        json={"channels": [{"channel": "sms", "frequency": "default"}]},
    )
    assert lifted.json()["preferences"][0]["frequency"] is None
    twice = {"channels": [{"channel": "sms"}, {"channel": "sms"}]}
    problem = admin.put(f"/v1/contacts/{contact_id}/preferences", json=twice)
    assert (problem.status_code, problem.json()["field"]) == (422, "channels")
    assert admin.put("/v1/contacts/999999/preferences", json=body).status_code == 404
    # promotions stopped are not resumed from preferences: refused, not silently ignored
    stop = {"channels": [{"channel": "sms", "promotions": False}]}
    assert len(admin.put(f"/v1/contacts/{contact_id}/preferences", json=stop).json()["events"]) == 1
    resume = {"channels": [{"channel": "sms", "promotions": True, "reminders": True}]}
    refused = admin.put(f"/v1/contacts/{contact_id}/preferences", json=resume)
    assert (refused.status_code, refused.json()["field"]) == (422, "promotions")
    assert "consent grant" in refused.json()["detail"]
    with session_scope(engine) as s:
        sources = s.scalars(
            select(ConsentEvent.source)
            .where(ConsentEvent.action != "granted")
            .order_by(ConsentEvent.id)
        ).all()
    assert sources == ["api", "api", "api", "api"]  # nothing written by the refused request
