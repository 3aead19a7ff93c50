"""`GET /v1/messages` and `textopt message list`: filters, keyset pages, a bounded window."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, update
from tests.factories.api import ApiClient
from tests.factories.cli import cli_json, run_cli

from textopt.db.engine import session_scope
from textopt.dispatch import listing
from textopt.outbox.models import Message

ALICE = "+33612345678"
BOB = "+33698765432"


def _send(admin: ApiClient, key: str, to: str, **extra: Any) -> int:
    body = {"to": to, "text": f"Rappel {key}", **extra}
    answer = admin.post("/v1/messages", json=body, headers={"Idempotency-Key": key})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _ids(admin: ApiClient, **query: Any) -> list[int]:
    """Every id the list gives for `query`, following `next` to the end."""
    found: list[int] = []
    params = dict(query)
    for _ in range(100):
        page = admin.get("/v1/messages", params=params)
        assert page.status_code == 200, page.text
        found += [m["id"] for m in page.json()["items"]]
        following = page.json()["next"]
        if following is None:
            return found
        params["after"] = following
    raise AssertionError("the pages never ended")


@pytest.fixture
def sent(admin: ApiClient) -> dict[str, int]:
    """Alice has a contact and two reminders; Bob (no contact) one; one marketing is blocked."""
    alice = admin.post("/v1/contacts", json={"phone": ALICE, "email": "alice@example.com"})
    assert alice.status_code == 201, alice.text
    return {
        "alice_1": _send(admin, "a1", ALICE),
        "bob": _send(admin, "b1", BOB),
        "alice_2": _send(admin, "a2", ALICE),
        "promo": _send(admin, "p1", ALICE, purpose="marketing"),  # no consent: blocked
        "contact": int(alice.json()["id"]),
    }


def test_messages_are_listed_by_contact_number_address_status_and_purpose(
    admin: ApiClient, sent: dict[str, int]
) -> None:
    everything = [sent["alice_1"], sent["bob"], sent["alice_2"], sent["promo"]]
    assert _ids(admin) == everything
    mine = [sent["alice_1"], sent["alice_2"], sent["promo"]]
    assert _ids(admin, contact=sent["contact"]) == mine
    assert _ids(admin, phone="06 12 34 56 78") == mine
    assert _ids(admin, email="alice@EXAMPLE.com") == mine
    assert _ids(admin, phone="06 00 00 00 00") == []
    assert _ids(admin, phone="06 98 76 54 32") == [sent["bob"]]  # no contact: by recipient
    assert _ids(admin, phone=BOB, email="alice@example.com") == []
    assert _ids(admin, status="blocked") == [sent["promo"]]
    assert _ids(admin, purpose="transactional", phone=ALICE) == [sent["alice_1"], sent["alice_2"]]
    assert _ids(admin, channel="email") == []
    assert _ids(admin, one_off=True) == everything
    assert _ids(admin, one_off=False) == []
    assert _ids(admin, limit=1) == everything  # one per page, none skipped nor repeated
    item = admin.get("/v1/messages", params={"status": "blocked"}).json()["items"][0]
    assert item["reason"]
    assert item["purpose"] == "marketing"
    assert "events" not in item  # the history is `GET /v1/messages/{id}`


def test_time_filters_need_an_offset_and_select_by_creation_and_update(
    admin: ApiClient, engine: Engine, sent: dict[str, int]
) -> None:
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with session_scope(engine) as s:  # the first two were sent two days ago
        s.execute(
            update(Message)
            .where(Message.id.in_([sent["alice_1"], sent["bob"]]))
            .values(
                created_at=yesterday - dt.timedelta(days=1),
                updated_at=yesterday - dt.timedelta(days=1),
            )
        )
    today = [sent["alice_2"], sent["promo"]]
    assert _ids(admin, created_since=yesterday.isoformat()) == today
    assert _ids(admin, created_until=yesterday.isoformat()) == [sent["alice_1"], sent["bob"]]
    assert _ids(admin, updated_since=yesterday.isoformat()) == today
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert _ids(admin, created_since=future) == []
    naive = admin.get("/v1/messages", params={"created_since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422
    assert naive.json()["field"] == "created_since"


def test_a_page_reads_a_bounded_window_and_continues_after_it(
    admin: ApiClient, sent: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "SCAN_WINDOW", 2)
    first = admin.get("/v1/messages", params={"status": "blocked"}).json()
    # the blocked message is the fourth: the first window (two rows) holds none of it
    assert first == {"items": [], "next": str(sent["bob"])}
    assert _ids(admin, status="blocked") == [sent["promo"]]
    assert _ids(admin, purpose="transactional") == [sent["alice_1"], sent["bob"], sent["alice_2"]]


def test_the_cli_lists_the_same_pages_as_json(admin: ApiClient, sent: dict[str, int]) -> None:
    page = cli_json("message", "list", "--phone", "06 12 34 56 78", "--limit", "2")
    assert [m["id"] for m in page["items"]] == [sent["alice_1"], sent["alice_2"]]
    assert page["next"] == str(sent["alice_2"])
    rest = cli_json("message", "list", "--phone", ALICE, "--after", page["next"])
    assert [m["id"] for m in rest["items"]] == [sent["promo"]]
    assert rest["next"] is None
    blocked = cli_json("message", "list", "--status", "blocked", "--purpose", "marketing")
    assert [m["id"] for m in blocked["items"]] == [sent["promo"]]
    table = run_cli("message", "list", "--limit", "3")
    assert "3 message(s)" in table
    assert f"next page: --after {sent['alice_2']}" in table
