"""Planning by class of recipient writes and reports exactly what planning one by one does.

The set-based path (`campaigns.planning.classes`) is taken by SMS campaigns with plain
templates; these tests plan the same campaign both ways on a varied audience and compare
every outbox column and the whole report, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from tests.factories.campaigns import WEDNESDAY_10H, add_contact, new_campaign
from tests.factories.keys import TEST_DIGEST

from textopt.campaigns.models import Campaign
from textopt.campaigns.planning import (
    RunContext,
    classes,
    plan_campaign,
    preview_campaign,
    run_context,
    snapshot,
)
from textopt.config import Settings
from textopt.consent import service as consent
from textopt.db.engine import session_scope
from textopt.errors import TemplateError
from textopt.outbox.models import Message

TEMPLATE = "{{ first_name }}, -20% à {{ attributes.city }} !"
CITIES: list[Any] = ["Lyon", "Paris", 75, 1.5, True, None, {"name": "Nice"}, "Zoë ☀", "Lyon"]


def _audience(session: Session, *, names: bool = True) -> None:
    """Forty contacts: three countries, languages, consent states, customers, bounced
    addresses, a suppressed number, and every kind of attribute value."""
    prefixes = ["+33 6 12 34 ", "+32 470 12 ", "+1 212 555 ", "+1 415 555 "]
    for n in range(40):
        phone = f"{prefixes[n % 4]}{n:04d}" if n % 4 > 1 else f"{prefixes[n % 4]}{n:02d} {n:02d}"
        consent_at = None if n % 7 == 3 else WEDNESDAY_10H - dt.timedelta(days=30 + n)
        fields: dict[str, Any] = {
            "first_name": None if (not names and n % 9 == 4) else ["Léa", "Hugo", "Zoé"][n % 3],
            "language": [None, "fr", "en", "nl"][n % 4],
            "attributes": {} if (not names and n % 11 == 5) else {"city": CITIES[n % len(CITIES)]},
            "is_customer": n % 5 == 0,
            "email": f"p{n}@example.org" if n % 3 else None,
        }
        contact = add_contact(session, phone, consent_at=consent_at, **fields)
        if n % 6 == 2:  # revoked later
            _consent(session, contact.id, "sms", "revoked", "keyword", days=2)
        if n % 8 == 1:  # email consent beside the SMS one
            _consent(session, contact.id, "email", "granted", "form", days=10)
        if n == 13:
            consent.suppress(session, digest=TEST_DIGEST, phone=contact.phone, reason="keyword")
        if n == 17:
            contact.email_undeliverable_at = WEDNESDAY_10H - dt.timedelta(days=1)


def audience_with_caps(session: Session, settings: Settings) -> None:
    """`_audience`, and an earlier campaign planned to a third of them: their caps make
    them exceptions, planned one by one inside a run planned by class."""
    _audience(session)
    earlier = new_campaign(session, settings, text="Nouveautés chez Boutique")
    session.flush()
    plan_campaign(session, campaign=earlier, settings=settings, now=WEDNESDAY_10H)
    session.execute(
        delete(Message).where(Message.campaign_id == earlier.id, Message.contact_id % 3 != 0)
    )


def _consent(
    session: Session, contact_id: int, channel: str, action: str, source: str, *, days: int
) -> None:
    consent.record_consent(
        session,
        digest=TEST_DIGEST,
        contact_id=contact_id,
        channel=channel,
        purpose="marketing",
        action=action,
        source=source,
        occurred_at=WEDNESDAY_10H - dt.timedelta(days=days),
    )


def _rows(session: Session, campaign_id: int) -> dict[int, dict[str, Any]]:
    messages = session.scalars(select(Message).where(Message.campaign_id == campaign_id)).all()
    return {
        m.contact_id: {c.name: getattr(m, c.name) for c in Message.__table__.c if c.name != "id"}
        for m in messages
    }


def _one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RunContext, "by_class", lambda run: False)


def _report(report: Any) -> dict[str, Any]:
    return report.to_dict()


@pytest.mark.parametrize(
    ("max_texts", "sqlite_version"),
    [(50_000, None), (3, None), (50_000, (3, 37, 2))],
    ids=["texts-kept", "texts-forgotten", "sqlite-without-arrow"],
)
def test_planning_by_class_writes_what_planning_one_by_one_writes(
    engine: Engine,
    campaign_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    max_texts: int,
    sqlite_version: tuple[int, int, int] | None,
) -> None:
    """Also when the run forgets the texts it has seen (as with texts personal to each
    recipient: they are composed again under new indexes), and with a SQLite older than
    the `->` operator."""
    monkeypatch.setattr(classes, "_MAX_TEXTS", max_texts)
    if sqlite_version is not None:
        monkeypatch.setattr(classes.sqlite3, "sqlite_version_info", sqlite_version)
    settings = campaign_settings
    with session_scope(engine) as session:
        audience_with_caps(session, settings)
        campaign = new_campaign(session, settings, text=TEMPLATE)
        campaign_id = campaign.id
    assert _run_context(engine, settings, campaign_id).by_class()

    by_class = _plan(engine, settings, campaign_id)
    with session_scope(engine) as session:
        session.execute(delete(Message).where(Message.campaign_id == campaign_id))
    _one_by_one(monkeypatch)
    alone = _plan(engine, settings, campaign_id)

    (rows, report, preview), (expected_rows, expected_report, _) = by_class, alone
    assert len(rows) == 40
    assert rows == expected_rows
    assert report == expected_report
    assert preview == {**report, "written": 0, "planned_elsewhere": preview["planned_elsewhere"]}
    # the audience is varied enough to mean something
    statuses = {(r["status"], r["reason"]) for r in rows.values()}
    assert {("blocked", "suppressed"), ("blocked", "no_consent")} <= statuses
    assert any(r["deferred"] for r in rows.values())  # night in North America
    assert ("blocked", "frequency_cap") in statuses  # the cap pushes them past the expiry
    bodies = {r["body"] for r in rows.values()}
    assert any("{'name': 'Nice'}" in b for b in bodies)
    assert any("True" in b for b in bodies)
    assert {r["encoding"] for r in rows.values()} == {"GSM-7", "UCS-2"}


def _run_context(engine: Engine, settings: Settings, campaign_id: int) -> RunContext:
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        return run_context(
            campaign, settings, now=WEDNESDAY_10H, prices=None, write=False, dialect=engine.dialect
        )


def _plan(
    engine: Engine, settings: Settings, campaign_id: int
) -> tuple[dict[int, dict[str, Any]], dict[str, Any], dict[str, Any]]:
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        preview = preview_campaign(
            session, campaign=campaign, settings=settings, now=WEDNESDAY_10H, batch_size=7
        )
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        report = plan_campaign(
            session, campaign=campaign, settings=settings, now=WEDNESDAY_10H, batch_size=7
        )
        campaign.planned_at = None
    with session_scope(engine) as session:
        rows = _rows(session, campaign_id)
    return rows, _report(report), _report(preview)


def test_template_problems_are_counted_alike(
    engine: Engine, campaign_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Missing names and cities: the same counts either way, and planning refuses."""
    settings = campaign_settings
    with session_scope(engine) as session:
        _audience(session, names=False)
        campaign_id = new_campaign(session, settings, text=TEMPLATE).id
    reports = []
    for one_by_one in (False, True):
        if one_by_one:
            _one_by_one(monkeypatch)
        with session_scope(engine) as session:
            campaign = session.get(Campaign, campaign_id)
            assert campaign is not None
            report = preview_campaign(
                session, campaign=campaign, settings=settings, now=WEDNESDAY_10H, batch_size=9
            )
            reports.append(report.to_dict())
            with pytest.raises(TemplateError, match="nothing was planned"):
                plan_campaign(session, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
            session.rollback()
    assert reports[0] == reports[1]
    assert sum(reports[0]["template_problems"].values()) == 8  # 5 without a name, 4 no city


def test_a_contact_added_in_the_planning_transaction_is_planned(
    engine: Engine, campaign_settings: Settings
) -> None:
    """Planning reads through a connection of its own only while its transaction has
    written nothing; otherwise it reads through the transaction's own."""
    settings = campaign_settings
    with session_scope(engine) as session:
        for n in range(3):
            add_contact(session, f"+33 6 12 34 56 {n:02d}", first_name="Léa")
        campaign_id = new_campaign(session, settings, text="{{ first_name }}, -20% !").id
    with session_scope(engine) as session:
        add_contact(session, "+33 6 12 34 56 99", first_name="Hugo")  # not committed yet
        session.flush()
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        report = plan_campaign(session, campaign=campaign, settings=settings, now=WEDNESDAY_10H)
    assert (report.audience, report.written, report.send_now) == (4, 4, 4)
    with session_scope(engine) as session:
        bodies = session.scalars(select(Message.body).where(Message.campaign_id == campaign_id))
        assert sorted(b.split(",")[0] for b in bodies if b) == [
            "Boutique: Hugo",
            "Boutique: Léa",
            "Boutique: Léa",
            "Boutique: Léa",
        ]


def test_a_clean_transaction_reads_beside_the_writer(
    engine: Engine, campaign_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction that has written nothing plans with a reader of its own (a SQLite
    file's WAL reader, a PostgreSQL connection on the transaction's snapshot); the result
    is the same."""
    settings = campaign_settings
    with session_scope(engine) as session:
        for n in range(30):
            add_contact(session, f"+33 6 12 34 56 {n:02d}", first_name="Léa")
        campaign_id = new_campaign(session, settings, text="{{ first_name }}, -20% !").id
    readers: list[Any] = []
    original = snapshot.snapshot_session

    def spy(session: Session) -> Any:
        reader = original(session)
        readers.append(reader)
        return reader

    monkeypatch.setattr(snapshot, "snapshot_session", spy)
    with session_scope(engine) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        report = plan_campaign(
            session, campaign=campaign, settings=settings, now=WEDNESDAY_10H, batch_size=4
        )
    assert (report.audience, report.written, report.send_now) == (30, 30, 30)
    assert len(readers) == 1
    assert readers[0] is not None


#: Values of every JSON type under the attributes a nested template path goes through.
NESTED: list[dict[str, Any]] = [
    {"points": 120, "profile": {"city": "Lyon", "zip": "69001"}},
    {"points": 5, "profile": {"city": "Lyon", "zip": "69002"}},
    {"points": 3000, "profile": {"city": "Nice"}},
    {"points": 1.5, "profile": {"city": ["Paris", "Lille"]}},
    {"points": True, "profile": {"city": None}},
    {"points": 120, "profile": {"city": {"name": "Brest"}}},
]


@pytest.mark.parametrize(
    "template",
    [
        "{{ first_name }}, vos {{ attributes.points.real }} points !",
        "{{ first_name }} de {{ attributes.profile.city }} ({{ attributes.profile.zip }})",
        "{{ first_name }} : {{ attributes.profile.city }}, {{ attributes.points }} points",
    ],
    ids=["through-a-number", "nested-object", "nested-and-flat"],
)
def test_a_nested_path_gives_each_recipient_the_text_planning_one_by_one_gives(
    engine: Engine, campaign_settings: Settings, monkeypatch: pytest.MonkeyPatch, template: str
) -> None:
    settings = campaign_settings
    with session_scope(engine) as session:
        for n, attributes in enumerate(NESTED * 2):
            add_contact(session, f"+33 6 12 34 56 {n:02d}", first_name="Léa", attributes=attributes)
        campaign_id = new_campaign(session, settings, text=template).id
    outcomes = []
    for one_by_one in (False, True):
        if one_by_one:
            _one_by_one(monkeypatch)
        with session_scope(engine) as session:
            session.execute(delete(Message).where(Message.campaign_id == campaign_id))
        try:
            rows, report, _preview = _plan(engine, settings, campaign_id)
        except TemplateError as exc:
            outcomes.append(("refused", exc.message))
        else:
            outcomes.append(({k: v["body"] for k, v in rows.items()}, report))
    assert outcomes[0] == outcomes[1]
    if template.startswith("{{ first_name }}, vos"):
        bodies = set(outcomes[0][0].values())  # type: ignore[union-attr]
        assert any("120 points" in b for b in bodies)
        assert any("3000 points" in b for b in bodies)


DEFAULTS = (
    "{{ first_name | default('Bonjour') }}, -20% à "
    "{{ attributes.city | default('votre boutique', true) }} !"
)


def test_a_template_with_default_filters_is_planned_by_class_exactly(
    engine: Engine, campaign_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`default` (as the README's tour writes it) reads nothing but its path: planned by
    class, with the texts planning one by one gives (missing names, null and falsy cities)."""
    settings = campaign_settings
    with session_scope(engine) as session:
        _audience(session, names=False)
        campaign_id = new_campaign(session, settings, text=DEFAULTS).id
    assert _run_context(engine, settings, campaign_id).by_class()
    by_class = _plan(engine, settings, campaign_id)
    with session_scope(engine) as session:
        session.execute(delete(Message).where(Message.campaign_id == campaign_id))
    _one_by_one(monkeypatch)
    alone = _plan(engine, settings, campaign_id)
    assert by_class[0] == alone[0]
    assert by_class[1] == alone[1]
    bodies = {r["body"] for r in by_class[0].values()}
    assert any("Bonjour, -20% à " in b for b in bodies), sorted(bodies)[:3]
    assert any("à votre boutique !" in b for b in bodies), sorted(bodies)[:3]


def test_attributes_stored_with_a_nan_are_planned_as_one_by_one_plans_them(
    engine: Engine, campaign_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contacts refuse NaN now, but a database may hold attributes written before, which
    SQLite's JSON functions call malformed: those contacts are planned one by one (the
    others still by class), and the texts are what planning one by one gives."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's JSON columns never held a NaN")
    settings = campaign_settings
    with session_scope(engine) as session:
        for n in range(3):
            add_contact(session, f"+33 6 12 34 56 {n:02d}", first_name="Léa", attributes={})
        session.flush()
        session.connection().exec_driver_sql(
            """UPDATE contacts SET attributes = '{"city": "Lyon", "score": NaN}' WHERE id = 2"""
        )
        session.connection().exec_driver_sql(
            """UPDATE contacts SET attributes = '{"city": "Nice"}' WHERE id <> 2"""
        )
        campaign_id = new_campaign(settings=settings, session=session, text=TEMPLATE).id
    assert _run_context(engine, settings, campaign_id).by_class()
    by_class = _plan(engine, settings, campaign_id)
    with session_scope(engine) as session:
        session.execute(delete(Message).where(Message.campaign_id == campaign_id))
    _one_by_one(monkeypatch)
    alone = _plan(engine, settings, campaign_id)
    assert by_class == alone
    assert sorted(r["body"].split("\n")[0] for r in by_class[0].values()) == [
        "Boutique: Léa, -20% à Lyon !",
        "Boutique: Léa, -20% à Nice !",
        "Boutique: Léa, -20% à Nice !",
    ]
