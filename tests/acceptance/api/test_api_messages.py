"""One-off messages: the Idempotency-Key never sends twice; status and bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

from fastapi import FastAPI
from sqlalchemy import Engine, func, select, update
from tests.factories.api import ApiClient

from textopt.accounts.models import IdempotencyRecord
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.gdpr.retention import Housekeeper
from textopt.outbox.models import Message

BODY = {"to": "06 12 34 56 78", "text": "Votre RDV est confirmé demain 10h"}


def _messages(engine: Engine) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(Message)) or 0)


def test_the_same_key_returns_the_same_message_and_never_queues_a_second(
    admin: ApiClient, engine: Engine
) -> None:
    first = admin.post("/v1/messages", json=BODY, headers={"Idempotency-Key": "order-42"})
    assert first.status_code == 201, first.text
    assert first.json()["created"] is True
    assert first.json()["status"] == "planned"
    again = admin.post("/v1/messages", json=BODY, headers={"Idempotency-Key": "order-42"})
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["id"] == first.json()["id"]
    assert _messages(engine) == 1
    status = admin.get(f"/v1/messages/{first.json()['id']}").json()
    assert status["to"] == "+33612345678"
    assert status["events"] == []


def test_the_answer_to_a_send_is_what_the_message_shows_afterwards(admin: ApiClient) -> None:
    """The creating answer is built from what the route wrote, without reading it back: it
    must be exactly what `GET /v1/messages/{id}` shows (contact or not, sent or blocked, a
    question asked)."""
    contact = admin.post("/v1/contacts", json={"phone": "06 98 76 54 32", "first_name": "Léa"})
    assert contact.status_code == 201, contact.text
    sends = {
        "stranger": BODY,
        "contact": {"to": "+33698765432", "text": "Bonjour {{ first_name }}, c'est prêt"},
        "blocked": {**BODY, "purpose": "marketing", "text": "Promo chez Boutique"},
        "question": {
            "to": "+33698765432",
            "text": "RDV demain 10h : OUI pour confirmer",
            "asks": "appointment",
            "asks_reference": "rdv-7",
        },
    }
    for key, body in sends.items():
        sent = admin.post("/v1/messages", json=body, headers={"Idempotency-Key": key})
        assert sent.status_code == 201, sent.text
        answer = sent.json()
        assert answer.pop("created") is True
        assert admin.get(f"/v1/messages/{answer['id']}").json() == answer, key
    assert "Léa" in admin.get("/v1/messages", params={"contact": contact.json()["id"]}).text


def test_a_used_key_with_another_body_is_a_conflict(admin: ApiClient, engine: Engine) -> None:
    admin.post("/v1/messages", json=BODY, headers={"Idempotency-Key": "k1"})
    other = admin.post(
        "/v1/messages", json={**BODY, "text": "Autre texte"}, headers={"Idempotency-Key": "k1"}
    )
    assert other.status_code == 409
    assert other.json()["field"] == "Idempotency-Key"
    assert _messages(engine) == 1


def test_a_message_without_a_key_or_with_a_bad_number_is_refused(admin: ApiClient) -> None:
    missing = admin.post("/v1/messages", json=BODY)
    assert missing.status_code == 422
    assert missing.json()["field"] == "Idempotency-Key"
    bad = admin.post("/v1/messages", json={**BODY, "to": "12"}, headers={"Idempotency-Key": "k"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "to"
    template = admin.post(
        "/v1/messages", json={**BODY, "text": "{{ broken"}, headers={"Idempotency-Key": "k2"}
    )
    assert template.status_code == 422
    assert admin.get("/v1/messages/999").status_code == 404


def test_a_blocked_message_says_why(admin: ApiClient) -> None:
    marketing = admin.post(
        "/v1/messages",
        json={**BODY, "purpose": "marketing", "text": "Promo chez Boutique"},
        headers={"Idempotency-Key": "promo"},
    )
    assert marketing.status_code == 201
    assert marketing.json()["status"] == "blocked"
    assert marketing.json()["reason"] == "no_consent"


def test_the_fingerprint_is_keyed_with_the_workspace_secret(
    admin: ApiClient, engine: Engine, campaign_settings: Settings
) -> None:
    assert admin.post("/v1/messages", json=BODY, headers={"Idempotency-Key": "k"}).status_code
    canonical = {**BODY, "variables": {}, "purpose": "transactional", "sender_id": None}
    canonical |= {"provider": None, "validity_hours": 24}
    with session_scope(engine) as s:
        stored = s.scalars(select(IdempotencyRecord.fingerprint)).one()
    for separators in ((", ", ": "), (",", ":")):
        text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=separators)
        assert stored != hashlib.sha256(text.encode()).hexdigest()  # guessable without the key
    keyed = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert (
        stored
        == hmac.new(
            campaign_settings.resolved_secret_key(), keyed.encode(), hashlib.sha256
        ).hexdigest()
    )


def test_after_an_erasure_a_key_no_longer_tells_whether_a_guess_is_right(
    admin: ApiClient, engine: Engine
) -> None:
    assert admin.post("/v1/contacts", json={"phone": BODY["to"]}).status_code == 201
    assert admin.post("/v1/messages", json=BODY, headers={"Idempotency-Key": "k"}).status_code
    assert admin.post("/v1/gdpr/erase", json={"phone": BODY["to"]}).status_code == 200
    with session_scope(engine) as s:
        assert s.scalars(select(IdempotencyRecord)).all() == []
    right = admin.post("/v1/messages", json=BODY, headers={"Idempotency-Key": "k"})
    wrong = admin.post(
        "/v1/messages", json={**BODY, "to": "06 98 76 54 32"}, headers={"Idempotency-Key": "k"}
    )
    # before: 200 for the right number, 409 for any other
    assert (right.status_code, right.json()) == (wrong.status_code, wrong.json())
    assert right.status_code >= 400


def test_a_key_is_forgotten_after_its_window(
    admin: ApiClient, app: FastAPI, engine: Engine, campaign_settings: Settings
) -> None:
    first = admin.post("/v1/messages", json=BODY, headers={"Idempotency-Key": "old"}).json()
    other = {**BODY, "text": "Votre RDV est déplacé à 11h"}
    # within the window, another request under the key is refused
    assert _status(admin, other, "old") == 409
    with session_scope(engine) as s:
        s.execute(update(IdempotencyRecord).values(created_at=utcnow() - dt.timedelta(hours=25)))
    # past it, the key is forgotten even before a purge: the message it made is answered
    again = admin.post("/v1/messages", json=other, headers={"Idempotency-Key": "old"})
    assert (again.status_code, again.json()["id"]) == (200, first["id"])
    assert admin.post("/v1/messages", json=BODY, headers={"Idempotency-Key": "new"}).status_code
    with session_scope(engine) as s:
        s.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "new")
            .values(created_at=utcnow() - dt.timedelta(hours=25))
        )
    # the route purges once a minute on its way (a process without the hourly sweep)
    app.state.idempotency_purged_at = utcnow() - dt.timedelta(minutes=2)
    assert admin.post("/v1/messages", json=BODY, headers={"Idempotency-Key": "last"}).status_code
    with session_scope(engine) as s:
        # "old" is remembered again from its answer after the window
        assert sorted(s.scalars(select(IdempotencyRecord.key))) == ["last", "old"]
    sweep = Housekeeper(engine, campaign_settings, clock=lambda: utcnow() + dt.timedelta(days=2))
    assert sweep.sweep().idempotency_records == 2


def _status(client: ApiClient, body: dict[str, str], key: str) -> int:
    return client.post("/v1/messages", json=body, headers={"Idempotency-Key": key}).status_code


def test_an_erasure_empties_one_off_messages_sent_before_the_number_was_a_contact(
    admin: ApiClient, engine: Engine
) -> None:
    early = admin.post("/v1/messages", json=BODY, headers={"Idempotency-Key": "early"}).json()
    assert admin.post("/v1/contacts", json={"phone": BODY["to"]}).status_code == 201
    assert admin.post("/v1/gdpr/erase", json={"phone": BODY["to"]}).status_code == 200
    with session_scope(engine) as s:
        message = s.get_one(Message, early["id"])
        assert (message.recipient, message.body) == (None, None)
        assert s.scalars(select(IdempotencyRecord)).all() == []
