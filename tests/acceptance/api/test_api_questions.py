"""A clinic's own booking system through the API: `POST /v1/messages` with `asks`, the reply
answering it, `GET /v1/contacts/{id}/questions`; and `POST /v1/events/import` (a CSV, all
rows or none, with every refused row)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, select
from tests.factories.api import ApiClient
from tests.factories.campaigns import run_dispatcher
from tests.factories.inbound import text_in

from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.events.models import ContactEvent

PARIS = "+33612345678"


def _contact(api: ApiClient, phone: str = PARIS, email: str = "ana@example.com") -> int:
    created = api.post("/v1/contacts", json={"phone": phone, "email": email, "language": "fr"})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _events(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(ContactEvent)) or 0)


def test_a_reminder_sent_by_the_api_asks_and_the_reply_answers_it(
    admin: ApiClient, engine: Engine, campaign_settings: Settings
) -> None:
    contact = _contact(admin)
    answer_by = (utcnow() + dt.timedelta(days=1)).isoformat()
    sent = admin.post(
        "/v1/messages",
        json={
            "to": PARIS,
            "text": "RDV demain 10h. Répondez OUI pour confirmer, ANNULER pour annuler.",
            "asks": "appointment",
            "asks_reference": "rdv-981",
            "answer_by": answer_by,
        },
        headers={"Idempotency-Key": "rdv-981-reminder"},
    )
    assert sent.status_code == 201, sent.text
    [waiting] = admin.get(f"/v1/contacts/{contact}/questions").json()["items"]
    assert (waiting["state"], waiting["reference"], waiting["kind"]) == (
        "waiting",
        "rdv-981",
        "appointment",
    )
    assert waiting["message_id"] == sent.json()["id"]
    run_dispatcher(engine, campaign_settings, at=utcnow())  # the sandbox accepts it
    [open_] = admin.get(f"/v1/contacts/{contact}/questions").json()["items"]
    assert open_["state"] == "open"
    with session_scope(engine) as s:
        reply = text_in(s, campaign_settings, sender=PARIS, text="Annuler", at=utcnow())
        assert reply.reply is not None
        assert reply.reply.body == "Votre rendez-vous est annulé. Merci de nous avoir prévenus."
    page = admin.get(f"/v1/contacts/{contact}/questions").json()
    [answered] = page["items"]
    assert page["next"] is None
    assert (answered["state"], answered["answer"]) == ("answered", "cancelled")
    [event] = admin.get(f"/v1/contacts/{contact}/events").json()["items"]
    assert event["type"] == "appointment_cancelled"
    assert event["properties"]["appointment_id"] == "rdv-981"
    assert event["id"] == answered["event_id"]


def test_asks_is_checked_field_by_field(admin: ApiClient) -> None:
    _contact(admin)
    unknown = admin.post(
        "/v1/messages",
        json={"to": PARIS, "text": "x", "asks": "survey"},
        headers={"Idempotency-Key": "k1"},
    )
    assert unknown.status_code == 422
    stranger = admin.post(
        "/v1/messages",
        json={"to": "+33698765432", "text": "x", "asks": "appointment"},
        headers={"Idempotency-Key": "k2"},
    )
    assert stranger.status_code == 422
    assert stranger.json()["field"] == "asks"
    past = admin.post(
        "/v1/messages",
        json={
            "to": PARIS,
            "text": "x",
            "asks": "appointment",
            "answer_by": "2020-01-01T10:00:00+01:00",
        },
        headers={"Idempotency-Key": "k3"},
    )
    assert past.status_code == 422
    assert past.json()["field"] == "answer_by"
    assert admin.get("/v1/contacts/999/questions").status_code == 404


def test_an_events_csv_is_recorded_whole_or_refused_with_every_row(
    admin: ApiClient, viewer: ApiClient, engine: Engine
) -> None:
    _contact(admin)
    good = (
        "phone;type;occurred_at;order\n"
        "06 12 34 56 78;order_shipped;2026-11-20T10:00:00+01:00;A-17\n"
        "+33612345678;order_delivered;2026-11-21T10:00:00+01:00;A-17\n"
    )
    files = {"file": ("orders.csv", good.encode(), "text/csv")}
    done = admin.post("/v1/events/import", files=files)
    assert done.status_code == 200, done.text
    assert (done.json()["recorded"], done.json()["committed"], done.json()["file"]) == (
        2,
        True,
        "orders.csv",
    )
    again = admin.post("/v1/events/import", files=files)
    assert (again.json()["recorded"], again.json()["already_recorded"]) == (0, 2)
    bad = (
        "phone;type;occurred_at\n"
        "+33612345678;order_shipped;2026-11-22T10:00:00+01:00\n"
        "+33699999999;order_shipped;2026-11-22T10:00:00+01:00\n"
        "+33612345678;;yesterday\n"
    )
    refused = admin.post("/v1/events/import", files={"file": ("bad.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert (body["committed"], body["recorded"], body["rejected"]) == (False, 0, 2)
    assert {(e["line"], e["column"]) for e in body["errors"]} >= {(3, "phone"), (4, "type")}
    assert _events(engine) == 2  # nothing of the refused file
    assert admin.post("/v1/events/import", data={"x": "1"}).status_code == 422
    assert viewer.post("/v1/events/import", files=files).status_code == 403
