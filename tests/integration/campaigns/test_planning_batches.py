"""Planning in several batches gives what one batch gives, on every database kind."""

from __future__ import annotations

from sqlalchemy import Engine, select
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign

from textopt.campaigns.planning import PlanReport, plan_campaign, preview_campaign
from textopt.config import Settings, reset_settings
from textopt.consent import service as consent
from textopt.consent.suppression import address_digester
from textopt.db.engine import create_db_engine, session_scope
from textopt.db.registry import load_metadata
from textopt.outbox.models import Message

PHONES = [f"+33 6 12 34 56 {n:02d}" for n in range(11)]


def _audience(engine: Engine, settings: Settings) -> None:
    """Eleven contacts: eight with consent, two without, one who sent STOP."""
    with session_scope(engine) as session:
        for n, phone in enumerate(PHONES):
            contact = add_contact(
                session,
                phone,
                consent_at=None if n in (3, 7) else WEDNESDAY_10H.replace(day=1),
                first_name=f"Léa{n}",
            )
            if n == 9:
                digest = address_digester(settings.resolved_secret_key())
                consent.suppress(session, digest=digest, phone=contact.phone, reason="keyword")


def _plan(engine: Engine, settings: Settings, *, batch_size: int) -> tuple[PlanReport, dict]:
    with session_scope(engine) as session:
        campaign = new_campaign(session, settings, text="{{ first_name }}, soldes -20% !")
        session.flush()
        # the same campaign previewed in one batch: the same figures
        whole = preview_campaign(
            session, campaign=campaign, settings=settings, now=WEDNESDAY_10H, batch_size=5_000
        )
        report = plan_campaign(
            session, campaign=campaign, settings=settings, now=WEDNESDAY_10H, batch_size=batch_size
        )
        for name in ("audience", "send_now", "blocked", "deferred", "segments", "hours"):
            assert getattr(whole, name) == getattr(report, name), name
        assert (whole.cost_micros, whole.by_country) == (report.cost_micros, report.by_country)
        rows = session.execute(
            select(Message.recipient, Message.status, Message.reason, Message.body).where(
                Message.campaign_id == campaign.id
            )
        ).all()
    return report, {recipient: (status, reason, body) for recipient, status, reason, body in rows}


def _check(report: PlanReport, rows: dict) -> None:
    assert report.audience == 11
    assert report.written == 11
    assert report.send_now == 8
    assert dict(report.blocked) == {"no_consent": 2, "suppressed": 1}
    assert rows["+33612345603"][:2] == ("blocked", "no_consent")
    assert rows["+33612345609"][:2] == ("blocked", "suppressed")
    assert rows["+33612345600"][0] == "planned"
    assert "Léa0, soldes -20% !" in rows["+33612345600"][2]


def test_planning_in_small_batches_writes_every_row_once(
    engine: Engine, campaign_settings: Settings
) -> None:
    _audience(engine, campaign_settings)
    report, rows = _plan(engine, campaign_settings, batch_size=4)  # three batches
    _check(report, rows)


def test_planning_on_an_in_memory_database() -> None:
    """An in-memory SQLite database lives in one thread: the outbox is written from it."""
    settings = Settings(database_url="sqlite://", secret_key="memory", default_region="FR")
    reset_settings(settings)
    engine = create_db_engine(settings.database_url)
    load_metadata().create_all(engine)
    try:
        _audience(engine, settings)
        report, rows = _plan(engine, settings, batch_size=4)
        _check(report, rows)
    finally:
        engine.dispose()
        reset_settings(None)
