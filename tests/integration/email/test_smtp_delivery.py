"""Email through a real SMTP server (aiosmtpd on 127.0.0.1): headers, unsubscribe, bounces."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from tests.factories.campaigns import WEDNESDAY_10H, run_dispatcher
from tests.factories.keys import TEST_DIGEST
from tests.factories.multichannel import add_person, by_channel, new_multichannel_campaign
from tests.servers.smsc import ignore
from tests.servers.smtp import (
    SmtpServer,
    post_one_click,
    serving,
    smtp_server,
    smtp_tls_server,
    unsubscribe_app,
)

from textopt.campaigns import service as campaigns
from textopt.campaigns.report import campaign_report
from textopt.config import Settings, reset_settings
from textopt.consent import service as consent
from textopt.consent.models import ConsentEvent
from textopt.contacts.models import Contact
from textopt.db.engine import session_scope
from textopt.outbox.models import Message
from textopt.providers.base import OutboundMessage
from textopt.providers.smtp import SmtpProvider

__all__ = ["smtp_server", "smtp_tls_server"]  # the fixtures this module uses

LATER = WEDNESDAY_10H + dt.timedelta(minutes=1)


def _settings(base: Settings, server: SmtpServer, **options: object) -> Settings:
    values = base.model_copy(
        update={
            "providers": {**base.providers, "mail": server.account(**options)},
            "public_base_url": "https://shop.example",
            "email_from_address": "news@shop.example",
            "email_bounce_limit": 2,
        }
    )
    reset_settings(values)
    return values


@pytest.fixture
def mail_settings(
    campaign_settings: Settings, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Campaign settings with an SMTP account `mail` on the test server."""
    values = _settings(campaign_settings, smtp_server)
    monkeypatch.setenv("TEXTOPT_PROVIDERS", json.dumps(values.providers))
    yield values
    reset_settings(campaign_settings)


def _newsletter(engine: Engine, settings: Settings, **options: object) -> int:
    with session_scope(engine) as s:
        campaign = new_multichannel_campaign(s, settings, channels="email", text=None, **options)
        campaigns.launch(s, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
        return campaign.id


def _parts(message: EmailMessage) -> dict[str, str]:
    return {
        part.get_content_type(): str(part.get_content())
        for part in message.iter_parts()  # the alternatives, in order
    }


def test_an_email_arrives_multipart_with_brand_and_one_click_headers(
    engine: Engine, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    with session_scope(engine) as s:
        lea = add_person(s, phone="+33612345601", email="lea@example.fr", first_name="<Léa>")
        lea_id = lea.id
    campaign_id = _newsletter(engine, mail_settings)
    run_dispatcher(engine, mail_settings, at=LATER)

    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    email = received.message
    assert received.rcpt_tos == ["lea@example.fr"]
    assert received.mail_from == "news@shop.example"
    assert parseaddr(str(email["From"])) == ("Boutique", "news@shop.example")
    assert email["To"] == "lea@example.fr"
    assert email["Subject"] == "La lettre d'hiver, <Léa>"
    assert email["Message-ID"] == f"<c{campaign_id}-{lea_id}-email@shop.example>"
    links = str(email["List-Unsubscribe"])
    assert re.fullmatch(rf"<https://shop\.example/u/{lea_id}\.email\.{campaign_id}\.[\w-]+>", links)
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.get_content_type() == "multipart/alternative"
    parts = _parts(email)
    assert list(parts) == ["text/plain", "text/html"]
    html, text = parts["text/html"], parts["text/plain"]
    assert "<h1>Bonjour &lt;Léa&gt;</h1>" in html  # a name is text, never markup
    assert links.strip("<>") in html  # the visible link, not only the header
    assert "Bonjour <Léa>" in text
    assert "les soldes (https://shop.example/soldes)" in text
    assert f"Se désinscrire : {links.strip('<>')}" in text
    with session_scope(engine) as s:
        message = s.scalars(select(Message).where(Message.campaign_id == campaign_id)).one()
        assert (message.status, message.segments) == ("submitted", 1)
        assert message.provider_message_id == f"c{campaign_id}-{lea_id}-email@shop.example"


def test_a_transactional_email_has_no_unsubscribe_link(
    engine: Engine, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="lea@example.fr", mail=None)
    _newsletter(engine, mail_settings, purpose="transactional")
    run_dispatcher(engine, mail_settings, at=LATER)
    email = smtp_server.received[0].message
    assert email["List-Unsubscribe"] is None
    assert "Se désinscrire" not in _parts(email)["text/plain"]


def test_one_click_unsubscribe_revokes_email_consent_once(
    engine: Engine, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    with session_scope(engine) as s:
        lea = add_person(s, phone="+33612345601", email="lea@example.fr", first_name="Léa")
        lea_id = lea.id
    _newsletter(engine, mail_settings)
    run_dispatcher(engine, mail_settings, at=LATER)
    link = str(smtp_server.received[0].message["List-Unsubscribe"]).strip("<>")
    path = link.removeprefix("https://shop.example")

    with serving(unsubscribe_app(engine)) as base:
        assert post_one_click(base + path) == 200
        assert post_one_click(base + path) == 200  # mail clients retry: still one event
        forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
        with pytest.raises(Exception, match="404"):
            post_one_click(base + forged)

    with session_scope(engine) as s:
        state = consent.current_consent(s, contact_id=lea_id)
        assert state[("email", "marketing")].status == "revoked"
        assert state[("email", "marketing")].source == "unsubscribe-link"
        assert state[("sms", "marketing")].status == "granted"  # the SMS consent stands
        events = s.scalars(
            select(ConsentEvent).where(
                ConsentEvent.contact_id == lea_id, ConsentEvent.action == "revoked"
            )
        ).all()
        assert len(events) == 1
        assert consent.verify_ledger(s, digest=TEST_DIGEST).ok
        report = campaign_report(s, campaign=campaigns.get_campaign_or_raise(s, campaign_id=1))
    assert report["channels"]["email"]["opt_outs_after_launch"] == 1
    second = _newsletter(engine, mail_settings)
    assert by_channel(engine, second) == {("Léa", "email"): ("blocked", "consent_revoked")}


def test_a_no_such_user_refusal_fails_the_message_and_marks_the_address_undeliverable(
    engine: Engine, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.refuse["ghost@example.fr"] = "550 5.1.1 <ghost@example.fr>: no such user"
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="ghost@example.fr", first_name="Ghost")
        add_person(s, phone="+33612345602", email="lea@example.fr", first_name="Léa")
    first = _newsletter(engine, mail_settings)
    stats = run_dispatcher(engine, mail_settings, at=LATER)
    assert (stats.submitted, stats.failed) == (1, 1)
    assert [r.rcpt_tos for r in smtp_server.received] == [["lea@example.fr"]]
    with session_scope(engine) as s:
        ghost = s.scalars(select(Contact).where(Contact.first_name == "Ghost")).one()
        failed = s.scalars(
            select(Message).where(Message.contact_id == ghost.id, Message.campaign_id == first)
        ).one()
        assert (failed.status, failed.reason, failed.error_code) == (
            "failed",
            "provider_refused",
            "550",
        )
        assert "no such user" in (failed.error_text or "")
        assert (ghost.email_bounces, ghost.email_undeliverable_at) == (1, LATER)
        report = campaign_report(s, campaign=campaigns.get_campaign_or_raise(s, campaign_id=first))
    assert report["channels"]["email"]["failed_by_code"] == {"550": 1}
    second = _newsletter(engine, mail_settings)
    assert by_channel(engine, second)[("Ghost", "email")] == ("blocked", "invalid_email")


def _send_a_newsletter_on_day(engine: Engine, settings: Settings, day: int) -> None:
    at = LATER + dt.timedelta(days=day)
    with session_scope(engine) as s:
        campaign = new_multichannel_campaign(s, settings, channels="email", text=None)
        campaigns.launch(s, campaign=campaign, settings=settings, now=at)
    run_dispatcher(engine, settings, at=at + dt.timedelta(minutes=1))


def test_other_permanent_refusals_mark_the_address_only_at_the_bounce_limit(
    engine: Engine, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.refuse["full@example.fr"] = "552 5.2.2 mailbox full"
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="full@example.fr", first_name="Full")
    undeliverable = []
    for day in range(3):  # the limit is 2 in these settings; a cap allows one a day
        _send_a_newsletter_on_day(engine, mail_settings, day)
        with session_scope(engine) as s:
            full = s.scalars(select(Contact).where(Contact.first_name == "Full")).one()
            undeliverable.append((full.email_bounces, full.email_undeliverable_at is not None))
    assert undeliverable == [(1, False), (2, True), (2, True)]  # the third was never sent


def test_an_accepted_email_resets_the_bounce_count(
    engine: Engine, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.refuse_once["lea@example.fr"] = "554 5.7.1 rejected for policy reasons"
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="lea@example.fr", first_name="Léa")
    counts = []
    for day in range(2):
        _send_a_newsletter_on_day(engine, mail_settings, day)
        with session_scope(engine) as s:
            counts.append(s.scalars(select(Contact.email_bounces)).one())
    assert counts == [1, 0]


def test_a_temporary_refusal_is_retried_and_sent_later(
    engine: Engine, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.refuse_once["lea@example.fr"] = "451 4.3.0 try again later"
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="lea@example.fr", first_name="Léa")
    campaign_id = _newsletter(engine, mail_settings)
    stats = run_dispatcher(engine, mail_settings, at=LATER)
    assert (stats.retried, len(smtp_server.received)) == (1, 0)
    assert by_channel(engine, campaign_id) == {("Léa", "email"): ("queued", None)}
    run_dispatcher(engine, mail_settings, at=LATER + dt.timedelta(minutes=2))
    assert [r.rcpt_tos for r in smtp_server.received] == [["lea@example.fr"]]
    with session_scope(engine) as s:
        assert s.scalars(select(Contact.email_bounces)).one() == 0


def test_one_connection_carries_every_batch(
    engine: Engine, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    settings = mail_settings.model_copy(update={"dispatch_batch_size": 3})
    with session_scope(engine) as s:
        for n in range(10):
            add_person(s, phone=f"+336123456{n:02d}", email=f"p{n}@example.fr", first_name=f"P{n}")
    _newsletter(engine, settings)
    run_dispatcher(engine, settings, at=LATER)
    assert len(smtp_server.received) == 10
    assert {r.session for r in smtp_server.received} == {1}


def _outbound(number: int, to: str) -> OutboundMessage:
    return OutboundMessage(
        message_id=number,
        idempotency_key=f"k{number}",
        recipient=to,
        body="Hello",
        channel="email",
        subject="Hi",
        html="<p>Hello</p>",
        headers={"From": "Boutique <news@shop.example>"},
    )


@pytest.mark.parametrize(
    ("idle_check", "second_outcomes"),
    [
        (0, ["accepted"]),  # checked before use: reconnects at once
        (3600, ["temporary", "accepted"]),  # found dead while sending: retried, then reconnects
    ],
)
def test_a_connection_the_server_dropped_is_reopened(
    smtp_server: SmtpServer, idle_check: int, second_outcomes: list[str]
) -> None:
    provider = SmtpProvider("mail", smtp_server.account(idle_check=idle_check))

    async def scenario() -> list[list[str]]:
        await provider.start(ignore)
        outcomes = [[str(r.outcome) for r in await provider.submit([_outbound(1, "a@ex.fr")])]]
        smtp_server.stop()  # every session is closed; the pool still holds its connection
        smtp_server.start()
        for number, to in enumerate(["b@ex.fr", "b@ex.fr"][: len(second_outcomes)], 2):
            outcomes.append(
                [str(r.outcome) for r in await provider.submit([_outbound(number, to)])]
            )
        await provider.stop()
        return outcomes

    outcomes = asyncio.run(scenario())
    assert [o[0] for o in outcomes] == ["accepted", *second_outcomes]
    assert [r.rcpt_tos for r in smtp_server.received] == [["a@ex.fr"], ["b@ex.fr"]]
    assert provider.connections_opened == 2


def test_starttls_and_login_are_used_when_the_server_requires_them(
    engine: Engine, campaign_settings: Settings, smtp_tls_server: SmtpServer
) -> None:
    settings = _settings(campaign_settings, smtp_tls_server)
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="lea@example.fr", first_name="Léa")
    campaign_id = _newsletter(engine, settings)
    run_dispatcher(engine, settings, at=LATER)
    assert [r.rcpt_tos for r in smtp_tls_server.received] == [["lea@example.fr"]]
    assert by_channel(engine, campaign_id) == {("Léa", "email"): ("sent", None)}


def test_a_wrong_password_leaves_the_email_queued_with_the_reason(
    engine: Engine, campaign_settings: Settings, smtp_tls_server: SmtpServer
) -> None:
    settings = _settings(campaign_settings, smtp_tls_server, password="wrong")
    with session_scope(engine) as s:
        add_person(s, phone="+33612345601", email="lea@example.fr", first_name="Léa")
    campaign_id = _newsletter(engine, settings)
    run_dispatcher(engine, settings, at=LATER)
    assert smtp_tls_server.received == []
    with session_scope(engine) as s:
        message = s.scalars(select(Message).where(Message.campaign_id == campaign_id)).one()
        assert (message.status, message.error_code) == ("queued", "auth_failed")


def test_the_account_rate_limit_holds_by_the_dispatchers_clock(
    engine: Engine, campaign_settings: Settings, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    from textopt.dispatch.worker import Dispatcher

    rate = 4  # emails per second; the bucket holds one second's worth
    settings = _settings(campaign_settings, smtp_server, rate=rate)
    settings = settings.model_copy(update={"providers": {"mail": settings.providers["mail"]}})
    with session_scope(engine) as s:
        for n in range(20):
            add_person(s, phone=f"+336123456{n:02d}", email=f"p{n}@example.fr", first_name=f"P{n}")
    _newsletter(engine, settings)
    ticks = [LATER]

    def clock() -> dt.datetime:  # every look at the clock moves it 50 ms
        ticks[0] += dt.timedelta(milliseconds=50)
        return ticks[0]

    dispatcher = Dispatcher(engine, settings, clock=clock, poll_interval=0)
    asyncio.run(dispatcher.run(once=True))
    assert len(smtp_server.received) == 20
    with session_scope(engine) as s:
        claimed = sorted(at for at in s.scalars(select(Message.claimed_at)) if at is not None)
    start = claimed[0]
    for count, at in enumerate(claimed, 1):
        # a token bucket: at most a full bucket at once plus the refill since the start
        allowed = rate + rate * (at - start).total_seconds()
        assert count <= allowed + 1e-9, (count, at - start)
    assert (claimed[-1] - start).total_seconds() >= (20 - rate) / rate
