"""Failover end to end: the primary account goes down, messages move, none is sent twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.dispatch.failover import move_due_messages
from textopt.dispatch.worker import Dispatcher, DispatchStats
from textopt.outbox.models import Message, MessageEvent
from textopt.vocab import Purpose


def _settings(base: Settings, journal: Path, **primary: Any) -> Settings:
    sandbox = {**base.providers["sandbox"], "journal": str(journal)}
    providers = {
        "primary": {**sandbox, "fallback": ["backup"], **primary},
        "backup": dict(sandbox),
    }
    return base.model_copy(update={"providers": providers, "failover_after_errors": 3})


def _launch(engine: Engine, settings: Settings, count: int, **options: Any) -> int:
    with session_scope(engine) as s:
        for n in range(count):
            add_contact(s, f"+3361234{n:04d}", tags=("vip", "client"))
        campaign = new_campaign(s, settings, provider="primary", **options)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
        return campaign.id


def _dispatch(engine: Engine, settings: Settings) -> DispatchStats:
    dispatcher = Dispatcher(engine, settings, clock=lambda: WEDNESDAY_10H, poll_interval=0.01)
    return asyncio.run(dispatcher.run(once=True))


def _journal(journal: Path) -> list[tuple[str, str, str]]:
    lines = [json.loads(line) for line in journal.read_text().splitlines() if line]
    return [(line["key"], line["account"], line["id"]) for line in lines]


def _sent(message: Message) -> str:
    """`sent` once accepted (submitted, or delivered when the receipt came), else the status."""
    return "sent" if message.status in ("submitted", "delivered") else message.status


def _messages(engine: Engine, campaign_id: int) -> list[Message]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Message).where(Message.campaign_id == campaign_id)))


def test_an_unreachable_primary_hands_its_messages_to_the_fallback_without_duplicates(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    settings = _settings(campaign_settings, journal, outage_after=4)
    campaign_id = _launch(engine, settings, 12)
    stats = _dispatch(engine, settings)
    sent = _journal(journal)
    keys = [key for key, _, _ in sent]
    assert len(keys) == len(set(keys)) == 12  # every message once, none twice
    assert Counter(account for _, account, _ in sent) == {"primary": 4, "backup": 8}
    messages = _messages(engine, campaign_id)
    assert Counter((m.provider, _sent(m)) for m in messages) == {
        ("primary", "sent"): 4,
        ("backup", "sent"): 8,
    }
    by_key = {key: provider_id for key, _, provider_id in sent}
    assert all(by_key[m.idempotency_key] == m.provider_message_id for m in messages)
    assert stats.failed_over == 8
    with session_scope(engine) as s:
        moves = [
            e.detail["failover"]
            for e in s.scalars(select(MessageEvent))
            if "failover" in (e.detail or {})
        ]
    assert moves == [{"from": "primary", "to": "backup"}] * 8


def test_marketing_the_primary_may_have_taken_stays_there_and_is_never_sent_twice(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    settings = _settings(campaign_settings, journal, outage_after=2, outage_mode="no_answer")
    campaign_id = _launch(engine, settings, 6)
    stats = _dispatch(engine, settings)
    sent = _journal(journal)
    keys = [key for key, _, _ in sent]
    assert len(keys) == len(set(keys)) == 6  # the 4 unanswered ones went once, to the primary
    assert {account for _, account, _ in sent} == {"primary"}
    assert stats.failed_over == 0
    messages = _messages(engine, campaign_id)
    assert Counter((m.provider, _sent(m), m.error_code) for m in messages) == {
        ("primary", "sent", None): 2,
        # the primary may have them: marketing is never retried nor moved (at most once)
        ("primary", "unknown", "no_answer"): 4,
    }


def test_transactional_messages_move_even_after_an_unanswered_attempt(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    settings = _settings(campaign_settings, journal, outage_after=2, outage_mode="no_answer")
    campaign_id = _launch(
        engine,
        settings,
        6,
        purpose=Purpose.TRANSACTIONAL,
        text="Votre commande est prête",
        audience="tag:client",
    )
    _dispatch(engine, settings)
    sent = Counter(key for key, _, _ in _journal(journal))
    # at least once: the 4 unanswered ones went to the primary and again to the backup
    assert sorted(sent.values()) == [1, 1, 2, 2, 2, 2]
    messages = _messages(engine, campaign_id)
    assert Counter((m.provider, _sent(m)) for m in messages) == {
        ("primary", "sent"): 2,
        ("backup", "sent"): 4,
    }


def test_throttling_is_not_an_outage(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    settings = _settings(campaign_settings, journal, throttle_every=2)
    campaign_id = _launch(engine, settings, 6)
    stats = _dispatch(engine, settings)
    assert stats.failed_over == 0
    assert {m.provider for m in _messages(engine, campaign_id)} == {"primary"}


def test_a_campaign_may_name_its_own_fallback(
    engine: Engine, campaign_settings: Settings, journal: Path
) -> None:
    settings = _settings(campaign_settings, journal, outage_after=1)
    del settings.providers["primary"]["fallback"]
    campaign_id = _launch(engine, settings, 4)
    with session_scope(engine) as s:
        s.get_one(campaigns.Campaign, campaign_id).options = {"fallback": ["backup"]}
    _dispatch(engine, settings)
    assert Counter(m.provider for m in _messages(engine, campaign_id)) == {
        "primary": 1,
        "backup": 3,
    }


def test_only_planned_and_queued_messages_move_never_one_being_sent(
    session: Session, campaign_settings: Settings, journal: Path
) -> None:
    settings = _settings(campaign_settings, journal)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    session.close()
    campaign_id = _launch(engine, settings, 3)
    with session_scope(engine) as s:
        first, second, third = sorted(
            s.scalars(select(Message).where(Message.campaign_id == campaign_id)),
            key=lambda m: m.id,
        )
        first.status = "sending"
        second.status, second.send_at = "queued", WEDNESDAY_10H + dt.timedelta(hours=2)
    with session_scope(engine) as s:
        report = move_due_messages(
            s,
            account="primary",
            providers=settings.providers,
            is_down=lambda _account: False,
            now=WEDNESDAY_10H,
            horizon=dt.timedelta(minutes=1),
        )
    assert report.moved == {"backup": 1}  # the third; the second is not due before retrying
    assert {m.id: m.provider for m in _messages(engine, campaign_id)} == {
        first.id: "primary",
        second.id: "primary",
        third.id: "backup",
    }
