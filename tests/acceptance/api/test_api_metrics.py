"""`GET /metrics` of `textopt serve`: the outbox, the dispatcher's counters, its tasks."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, update
from tests.factories.api import BASE_URL, ApiClient, client, make_key

from textopt.accounts.models import Scope
from textopt.api.app import create_app
from textopt.config import Settings
from textopt.db.base import utcnow
from textopt.db.engine import session_scope
from textopt.outbox.models import Message

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(text: str) -> Samples:
    """Every sample by (name, labels), parsed by Prometheus's own parser (it must parse)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _send(admin: ApiClient, key: str) -> int:
    body = {"to": "06 12 34 56 78", "text": "Votre commande est prête"}
    response = admin.post("/v1/messages", json=body, headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.text
    message_id: int = response.json()["id"]
    return message_id


def test_metrics_need_a_key_with_the_metrics_scope(
    app: FastAPI, engine: Engine, viewer: ApiClient, anonymous: ApiClient
) -> None:
    assert anonymous.get("/metrics").status_code == 401
    assert viewer.get("/metrics").status_code == 403  # reading contacts is not reading metrics
    with client(app, make_key(engine, [Scope.METRICS], name="prometheus")) as scraper:
        response = scraper.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        # the key reads metrics and nothing else
        assert scraper.get("/v1/contacts").status_code == 403
    assert "# TYPE textopt_outbox_due_messages gauge" in response.text
    assert "# HELP textopt_dispatch_submit_seconds " in response.text


def test_the_outbox_gauges_follow_the_messages_due_and_waiting(
    app: FastAPI, engine: Engine, admin: ApiClient
) -> None:
    app.state.metrics.outbox.ttl = 0  # read at every scrape, not every few seconds
    empty = _samples(admin.get("/metrics").text)
    assert _value(empty, "textopt_outbox_due_messages", reason="none", account="none") == 0
    assert _value(empty, "textopt_outbox_oldest_due_seconds") == 0
    ids = [_send(admin, f"order-{n}") for n in range(3)]
    later = utcnow() + dt.timedelta(hours=2)
    with session_scope(engine) as session:
        session.execute(
            update(Message)
            .where(Message.id == ids[0])
            .values(send_at=later, reason="quiet_hours", provider="sandbox")
        )
        session.execute(
            update(Message)
            .where(Message.id == ids[1])
            .values(send_at=utcnow() - dt.timedelta(minutes=10))
        )
    samples = _samples(admin.get("/metrics").text)
    due = {
        dict(labels)["account"]: value
        for (name, labels), value in samples.items()
        if name == "textopt_outbox_due_messages"
    }
    assert sum(due.values()) == 2
    assert (
        _value(samples, "textopt_outbox_waiting_messages", reason="quiet_hours", account="sandbox")
        == 1
    )
    assert _value(samples, "textopt_outbox_oldest_due_seconds") >= 600
    with session_scope(engine) as session:
        session.execute(update(Message).values(status="delivered"))
    drained = _samples(admin.get("/metrics").text)
    assert not [
        name for (name, _), v in drained.items() if name.startswith("textopt_outbox_") and v
    ]


def test_the_outbox_is_read_once_per_ttl_however_often_it_is_scraped(
    app: FastAPI, admin: ApiClient
) -> None:
    app.state.metrics.outbox.ttl = 3600
    before = _samples(admin.get("/metrics").text)
    _send(admin, "after-the-first-scrape")
    cached = _samples(admin.get("/metrics").text)
    assert cached == {k: v for k, v in before.items() if k in cached}
    assert sum(v for (n, _), v in cached.items() if n == "textopt_outbox_due_messages") == 0


def test_serve_counts_claims_answers_and_submit_latency_of_its_dispatcher(
    engine: Engine, campaign_settings: Settings
) -> None:
    settings = campaign_settings.model_copy(update={"public_rate_per_minute": 100_000})
    app = create_app(settings, dispatcher=True, engine=engine)
    app.state.metrics.outbox.ttl = 0
    key = make_key(engine, list(Scope), name="admin")
    headers = {"Authorization": f"Bearer {key}"}

    async def scenario() -> Samples:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as http,
        ):
            for n in range(4):
                body = {"to": f"06 12 34 56 7{n}", "text": "Votre commande est prête"}
                sent = await http.post(
                    "/v1/messages", json=body, headers={"Idempotency-Key": f"k{n}"}
                )
                assert sent.status_code == 201, sent.text
            deadline = time.monotonic() + 30
            while True:
                samples = _samples((await http.get("/metrics")).text)
                answered = _value(
                    samples, "textopt_dispatch_answers_total", account="sandbox", result="submitted"
                )
                receipts = _value(samples, "textopt_dispatch_receipts_total", applied="true")
                if (answered >= 4 and receipts >= 4) or time.monotonic() > deadline:
                    return samples
                await asyncio.sleep(0.05)

    samples = asyncio.run(scenario())
    assert _value(samples, "textopt_dispatch_claimed_messages_total", account="sandbox") == 4
    answered = "textopt_dispatch_answers_total"
    assert _value(samples, answered, account="sandbox", result="submitted") == 4
    assert _value(samples, "textopt_dispatch_receipts_total", applied="true") == 4
    assert _value(samples, "textopt_dispatch_receipt_lag_seconds_count") == 4
    batches = _value(samples, "textopt_dispatch_submit_seconds_count", account="sandbox")
    assert 1 <= batches <= 4
    assert _value(samples, "textopt_dispatch_submit_seconds_bucket", account="sandbox", le="+Inf")
    assert _value(samples, "textopt_worker_running", task="dispatcher/sandbox/0") == 1
    assert _value(samples, "textopt_worker_running", task="webhooks") == 1
    assert ("textopt_worker_restarts_total", frozenset({("task", "dispatcher")})) in samples
    assert sum(v for (n, _), v in samples.items() if n == "textopt_outbox_due_messages") == 0


def test_a_scrape_queues_for_no_writer_once_the_key_s_last_use_is_recorded(
    app: FastAPI, engine: Engine
) -> None:
    app.state.metrics.outbox.ttl = 0
    with client(app, make_key(engine, [Scope.METRICS], name="prometheus")) as scraper:
        assert scraper.get("/metrics").status_code == 200  # records the key's first use
        writer = engine.connect()
        writer.begin()
        try:
            # a write transaction in progress (on SQLite: the write lock, and the gate)
            writer.execute(update(Message).values(status="planned"))
            response = scraper.get("/metrics")  # a read: it must not wait for the writer
        finally:
            writer.rollback()
            writer.close()
    assert response.status_code == 200
