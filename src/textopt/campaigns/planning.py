"""Planning: stream the audience, render, compose, decide, write the outbox in bulk.

`plan_campaign` and `preview_campaign` share one code path; the preview writes nothing.
Per batch of contacts: one query for the contacts, four for their facts, one bulk insert.
Renderings, compositions and decisions are cached on what they depend on, so a campaign
whose text does not vary costs one composition, and recipients with the same facts and no
recent history share one decision.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, func, select, type_coerce
from sqlalchemy.orm import Session

from textopt.campaigns.audience import compile_filter, parse_filter
from textopt.campaigns.facts import (
    CONTACT_COLUMNS,
    COUNTED_PLANNED,
    RecipientFacts,
    gather_facts,
    workspace_policy,
)
from textopt.campaigns.models import Campaign
from textopt.compose import (
    ComposedMessage,
    MessageFrame,
    PriceTable,
    Template,
    compile_template,
    count_segments,
    message_frame,
)
from textopt.compose.templates import LANGUAGE_KEY
from textopt.config import Settings
from textopt.contacts.models import Contact, ContactTag
from textopt.dispatch.models import Message
from textopt.dispatch.states import MessageStatus
from textopt.errors import TemplateError, TextoptError
from textopt.policy import Decision, MessageFacts, Verdict, WorkspacePolicy, decide
from textopt.vocab import Channel, Purpose

__all__ = ["PlanReport", "campaign_window", "plan_campaign", "preview_campaign"]

_MICROS = Decimal(1_000_000)
ProgressCallback = Callable[[int], None]


@dataclass(slots=True)
class PlanReport:
    """What planning (or a preview) found, ready for the CLI, the API and the UI."""

    campaign_id: int
    start: dt.datetime
    expires_at: dt.datetime
    audience: int = 0
    send_now: int = 0
    deferred: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    written: int = 0  # rows inserted (0 for a preview; less on re-planning)
    segments: int = 0
    cost_micros: int = 0
    currency: str = "EUR"
    by_country: dict[str, dict[str, int]] = field(default_factory=dict)
    smart_saving: int = 0  # segments saved by smart encoding (or that it would save)
    hours: dict[str, list[int]] = field(default_factory=dict)  # local day -> 24 counts
    worst: dict[str, Any] | None = None
    template_problems: Counter[str] = field(default_factory=Counter)
    throughput: float = 0.0  # segments per second used for the estimate

    @property
    def planned(self) -> int:
        """Messages that will go out: now or later."""
        return self.send_now + sum(self.deferred.values())

    @property
    def estimated_seconds(self) -> float:
        """Sending time at the throughput cap, not counting deferrals."""
        return self.segments / self.throughput if self.throughput else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (money as decimal strings)."""
        return {
            "campaign": self.campaign_id,
            "start": self.start.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "audience": self.audience,
            "planned": self.planned,
            "send_now": self.send_now,
            "deferred": dict(self.deferred.most_common()),
            "blocked": dict(self.blocked.most_common()),
            "written": self.written,
            "segments": self.segments,
            "cost": str(Decimal(self.cost_micros) / _MICROS),
            "currency": self.currency,
            "by_country": {
                key: {**value, "cost": str(Decimal(value["cost_micros"]) / _MICROS)}
                for key, value in sorted(self.by_country.items())
            },
            "smart_encoding_saving_segments": self.smart_saving,
            "send_times_by_local_hour": self.hours,
            "worst_message": self.worst,
            "template_problems": dict(self.template_problems.most_common()),
            "throughput_segments_per_second": self.throughput,
            "estimated_duration_seconds": round(self.estimated_seconds, 1),
        }


def campaign_window(campaign: Campaign, *, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The campaign's start (its `send_at`, or now) and its expiry."""
    start = max(campaign.send_at or now, now)
    expires = campaign.expires_at or start + dt.timedelta(hours=campaign.validity_hours)
    return start, expires


class _ContactView:
    """A contact row for planning: zones parsed through a cache, attributes when asked."""

    __slots__ = (
        "_attributes",
        "country",
        "email",
        "first_name",
        "id",
        "is_customer",
        "language",
        "last_name",
        "phone",
        "region",
        "timezone",
        "timezones",
    )

    def __init__(self, row: Any, zones: dict[Any, tuple[str, ...]]) -> None:
        self.id = row.id
        self.phone = row.phone
        self.email = row.email
        self.first_name = row.first_name
        self.last_name = row.last_name
        self.language = row.language
        self.country = row.country
        self.region = row.region
        self.timezone = row.timezone
        self.is_customer = row.is_customer
        raw = row.timezones_json
        if isinstance(raw, str):
            parsed = zones.get(raw)
            if parsed is None:
                parsed = zones[raw] = tuple(json.loads(raw))
            self.timezones = parsed
        else:  # a driver that decodes JSON itself (psycopg with jsonb)
            self.timezones = tuple(raw or ())
        self._attributes = row.attributes_json

    @property
    def attributes(self) -> dict[str, Any]:
        """The free attributes, decoded on first use."""
        raw = self._attributes
        if isinstance(raw, str):
            raw = self._attributes = json.loads(raw)
        return raw or {}


class _Planner:
    """Per-campaign state of one planning run: compiled template, caches, counters."""

    def __init__(
        self,
        session: Session,
        campaign: Campaign,
        settings: Settings,
        *,
        now: dt.datetime,
        prices: PriceTable | None,
    ) -> None:
        self.session = session
        self.campaign = campaign
        self.settings = settings
        self.channel = Channel(campaign.channel)
        self.purpose = Purpose(campaign.purpose)
        self.start, self.expires = campaign_window(campaign, now=now)
        self.workspace: WorkspacePolicy = workspace_policy(settings)
        self.prices = prices
        self.template: Template = compile_template(campaign.template)
        self.needs_tags = "tags" in self.template.variables
        self.needs_attributes = "attributes" in self.template.variables
        self.message = MessageFacts(
            channel=self.channel,
            purpose=self.purpose,
            sender_id=campaign.sender_id,
            expires_at=self.expires,
        )
        self._frames: dict[tuple[str, str], MessageFrame] = {}
        self._composed: dict[tuple[str, str, str], tuple[ComposedMessage, int]] = {}
        self._decisions: dict[tuple[Any, ...], Decision] = {}
        self._zones: dict[Any, tuple[str, ...]] = {}
        self.report = PlanReport(campaign_id=campaign.id, start=self.start, expires_at=self.expires)

    # -- caches -------------------------------------------------------------------------

    def frame(self, country: str, language: str) -> MessageFrame:
        key = (country, language)
        frame = self._frames.get(key)
        if frame is None:
            frame = message_frame(
                purpose=self.purpose,
                country=country,
                brand=self.campaign.brand_name,
                stop_number=self.settings.stop_number,
                language=language,
            )
            self._frames[key] = frame
        return frame

    def compose(self, body: str, country: str, language: str) -> tuple[ComposedMessage, int]:
        """The final message, and the segments smart encoding saves (or would save)."""
        key = (body, country, language)
        found = self._composed.get(key)
        if found is None:
            frame = self.frame(country, language)
            composed = frame.compose(
                body,
                smart_encoding=self.campaign.smart_encoding,
                fold_accents=self.campaign.fold_accents,
                prices=self.prices,
            )
            if self.campaign.smart_encoding:
                saving = count_segments(frame.apply(body)[0]) - composed.analysis.segments
            else:
                saving = composed.analysis.segments - composed.analysis.smart.segments
            if len(self._composed) > 50_000:
                self._composed.clear()  # personalised texts rarely repeat: bound the memory
            found = self._composed[key] = (composed, max(saving, 0))
        return found

    def decide(self, recipient: RecipientFacts) -> Decision:
        facts = recipient.facts
        if recipient.history:
            return decide(facts, self.message, self.start, recipient.history, self.workspace)
        e164 = facts.e164
        key = (
            facts.country,
            facts.region,
            facts.timezone,
            facts.timezones,
            tuple(sorted(facts.consents.items())),
            facts.soft_opt_in_eligible,
            facts.is_customer,
            facts.suppression_reasons,
            facts.transactional_opt_out,
            e164 is None,
            facts.email is None,
            e164[:5] if e164 and e164.startswith("+1") else None,  # NANP area code: the state
        )
        decision = self._decisions.get(key)
        if decision is None:
            decision = decide(facts, self.message, self.start, (), self.workspace)
            self._decisions[key] = decision
        return decision

    # -- one batch ----------------------------------------------------------------------

    def plan_batch(self, batch: Sequence[Any]) -> list[dict[str, Any]]:
        session = self.session
        contacts = [_ContactView(row, self._zones) for row in batch]
        tags: dict[int, list[str]] = {}
        if self.needs_tags:
            ids = [c.id for c in contacts]
            query = select(ContactTag.contact_id, ContactTag.tag).where(
                ContactTag.contact_id.in_(ids)
            )
            for contact_id, tag in session.execute(query):
                tags.setdefault(contact_id, []).append(tag)
        facts = gather_facts(
            session,
            contacts=contacts,
            channel=self.channel,
            now=self.start,
            counted=COUNTED_PLANNED,
            exclude_campaign_id=self.campaign.id,
        )
        rows: list[dict[str, Any]] = []
        report = self.report
        for contact in contacts:
            report.audience += 1
            row = self.plan_one(contact, facts[contact.id], tags.get(contact.id, []))
            if row is not None:
                rows.append(row)
        return rows

    def plan_one(
        self, contact: Any, recipient: RecipientFacts, tags: list[str]
    ) -> dict[str, Any] | None:
        report = self.report
        campaign = self.campaign
        language = contact.language or ""
        country = contact.country or "ZZ"
        context = {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
            "country": contact.country,
            "region": contact.region,
            "attributes": contact.attributes if self.needs_attributes else {},
            "tags": tags,
            LANGUAGE_KEY: language,
        }
        try:
            body = self.template.render(context)
        except TemplateError as exc:
            report.template_problems[exc.message] += 1
            return None
        try:
            composed, saving = self.compose(body, country, language)
        except TextoptError as exc:
            report.template_problems[exc.message] += 1
            return None
        decision = self.decide(recipient)
        analysis = composed.analysis
        cost_micros = int(analysis.cost.amount * _MICROS) if analysis.cost else 0
        row: dict[str, Any] = {
            "campaign_id": campaign.id,
            "contact_id": contact.id,
            "channel": self.channel,
            "purpose": self.purpose,
            "recipient": contact.email if self.channel == Channel.EMAIL else contact.phone,
            "sender": campaign.sender_id,
            "body": composed.text,
            "encoding": str(analysis.encoding),
            "segments": analysis.segments,
            "cost_micros": cost_micros,
            "currency": analysis.cost.currency if analysis.cost else report.currency,
            "country": contact.country,
            "pack": decision.pack,
            "expires_at": self.expires,
            "decided_at": self.start,
            "provider": campaign.provider,
            "idempotency_key": f"c{campaign.id}-{contact.id}",
            "deferred": False,
            "reason": None,
            "reason_text": decision.sentence,
        }
        if decision.verdict == Verdict.BLOCK:
            reason = str(decision.reason)
            report.blocked[reason] += 1
            row.update(status=MessageStatus.BLOCKED, reason=reason, send_at=None)
            return row
        if decision.verdict == Verdict.DEFER:
            report.deferred[str(decision.reason)] += 1
            row.update(
                status=MessageStatus.PLANNED,
                send_at=decision.at,
                deferred=True,
                reason=str(decision.reason),
            )
        else:
            report.send_now += 1
            row.update(status=MessageStatus.PLANNED, send_at=self.start)
        self._count(row, saving, decision, recipient)
        if report.worst is None or analysis.segments > report.worst["segments"]:
            report.worst = {
                "contact_id": contact.id,
                "text": composed.text,
                "segments": analysis.segments,
                "encoding": str(analysis.encoding),
                "units": analysis.units,
            }
        return row

    def _count(
        self,
        row: Mapping[str, Any],
        saving: int,
        decision: Decision,
        recipient: RecipientFacts,
    ) -> None:
        report = self.report
        segments = row["segments"]
        report.segments += segments
        report.cost_micros += row["cost_micros"]
        report.currency = row["currency"]
        key = f"{row['country'] or '??'}/{row['encoding']}"
        bucket = report.by_country.setdefault(key, {"messages": 0, "segments": 0, "cost_micros": 0})
        bucket["messages"] += 1
        bucket["segments"] += segments
        bucket["cost_micros"] += row["cost_micros"]
        report.smart_saving += saving
        zone = recipient.facts.timezone or (
            decision.timezones[0] if decision.timezones else self.workspace.default_timezone
        )
        local = row["send_at"].astimezone(_zone(zone))
        day = report.hours.setdefault(local.strftime("%Y-%m-%d %a"), [0] * 24)
        day[local.hour] += 1


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    zone = _ZONES.get(name)
    if zone is None:
        zone = _ZONES[name] = ZoneInfo(name)
    return zone


def _contact_batches(
    session: Session, campaign: Campaign, now: dt.datetime, batch_size: int
) -> Iterator[list[Any]]:
    """The audience's contact rows in keyset pages (never the whole list in memory)."""
    condition = compile_filter(parse_filter(campaign.audience_filter), now=now)
    columns: list[Any] = [c for c in CONTACT_COLUMNS if c.key not in ("timezones", "attributes")]
    # JSON columns come back as text and are parsed once per distinct value: most contacts
    # share their zones, and attributes are parsed only when the template uses them.
    columns += [
        type_coerce(Contact.timezones, Text).label("timezones_json"),
        type_coerce(Contact.attributes, Text).label("attributes_json"),
    ]
    query = select(*columns).where(condition).order_by(Contact.id).limit(batch_size)
    connection = session.connection()  # Core rows: no ORM bookkeeping on the hot path
    last_id = 0
    while True:
        rows = list(connection.execute(query.where(Contact.id > last_id)))
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        last_id = rows[-1].id


#: The outbox columns planning writes, in the order of the driver-level INSERT.
_OUTBOX_COLUMNS = (
    "campaign_id",
    "contact_id",
    "channel",
    "purpose",
    "recipient",
    "sender",
    "body",
    "encoding",
    "segments",
    "cost_micros",
    "currency",
    "country",
    "pack",
    "status",
    "reason",
    "reason_text",
    "deferred",
    "send_at",
    "expires_at",
    "decided_at",
    "provider",
    "idempotency_key",
    "attempts",
    "created_at",
    "updated_at",
)


class _OutboxWriter:
    """Bulk INSERT … ON CONFLICT DO NOTHING through the driver's executemany.

    Planning is the hot path: binding values through the ORM's type machinery cost more
    than the database's own insert, so values are converted here once per distinct value.
    """

    def __init__(self, session: Session, now: dt.datetime) -> None:
        self.connection = session.connection()
        dialect = self.connection.dialect
        self.sqlite = dialect.name == "sqlite"
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        self.sql = (
            f"INSERT INTO messages ({', '.join(_OUTBOX_COLUMNS)}) "
            f"VALUES ({', '.join([marker] * len(_OUTBOX_COLUMNS))}) "
            "ON CONFLICT (campaign_id, contact_id) DO NOTHING"
        )
        self.now = now
        self._instants: dict[dt.datetime, Any] = {}

    def _instant(self, value: dt.datetime | None) -> Any:
        if value is None:
            return None
        converted = self._instants.get(value)
        if converted is None:
            utc = value.astimezone(dt.UTC)
            # the storage format of SQLAlchemy's SQLite DateTime, read back by UTCDateTime
            converted = utc.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else utc
            if len(self._instants) > 100_000:
                self._instants.clear()
            self._instants[value] = converted
        return converted

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        now = self._instant(self.now)
        values = [
            (
                r["campaign_id"],
                r["contact_id"],
                str(r["channel"]),
                str(r["purpose"]),
                r["recipient"],
                r["sender"],
                r["body"],
                r["encoding"],
                r["segments"],
                r["cost_micros"],
                r["currency"],
                r["country"],
                r["pack"],
                str(r["status"]),
                r["reason"],
                r["reason_text"],
                r["deferred"],
                self._instant(r["send_at"]),
                self._instant(r["expires_at"]),
                self._instant(r["decided_at"]),
                r["provider"],
                r["idempotency_key"],
                0,
                now,
                now,
            )
            for r in rows
        ]
        self.connection.exec_driver_sql(self.sql, values)


def _run(
    session: Session,
    *,
    campaign: Campaign,
    settings: Settings,
    now: dt.datetime,
    write: bool,
    batch_size: int,
    progress: ProgressCallback | None,
    prices: PriceTable | None,
) -> PlanReport:
    planner = _Planner(session, campaign, settings, now=now, prices=prices)
    provider = settings.providers.get(campaign.provider, {})
    planner.report.throughput = float(campaign.throughput or provider.get("rate", 0) or 0)
    writer = _OutboxWriter(session, now) if write else None
    before = _planned_count(session, campaign.id) if write else 0
    for contacts in _contact_batches(session, campaign, planner.start, batch_size):
        rows = planner.plan_batch(contacts)
        if writer is not None and rows and not planner.report.template_problems:
            writer.write(rows)
        if progress is not None:
            progress(len(contacts))
    if write:
        planner.report.written = _planned_count(session, campaign.id) - before
    return planner.report


def _planned_count(session: Session, campaign_id: int) -> int:
    query = select(func.count()).select_from(Message).where(Message.campaign_id == campaign_id)
    return int(session.scalar(query) or 0)


def preview_campaign(
    session: Session,
    *,
    campaign: Campaign,
    settings: Settings,
    now: dt.datetime,
    batch_size: int = 5_000,
    progress: ProgressCallback | None = None,
    prices: PriceTable | None = None,
) -> PlanReport:
    """Everything planning would do, written nowhere."""
    return _run(
        session,
        campaign=campaign,
        settings=settings,
        now=now,
        write=False,
        batch_size=batch_size,
        progress=progress,
        prices=prices,
    )


def plan_campaign(
    session: Session,
    *,
    campaign: Campaign,
    settings: Settings,
    now: dt.datetime,
    batch_size: int = 5_000,
    progress: ProgressCallback | None = None,
    prices: PriceTable | None = None,
) -> PlanReport:
    """Write one outbox row per recipient (unique: re-planning adds only newcomers).

    All or nothing: a template that fails for any recipient raises TemplateError naming the
    variable and how many recipients lack it, and the caller's transaction is rolled back.
    """
    report = _run(
        session,
        campaign=campaign,
        settings=settings,
        now=now,
        write=True,
        batch_size=batch_size,
        progress=progress,
        prices=prices,
    )
    if report.template_problems:
        problems = "; ".join(
            f"{message} ({count:,} of {report.audience:,} recipients)"
            for message, count in report.template_problems.most_common()
        )
        raise TemplateError(f"nothing was planned: {problems}", field="template")
    campaign.planned_at = now
    return report
