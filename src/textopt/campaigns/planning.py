"""Planning: stream the audience, render, compose, decide, write the outbox in bulk.

`plan_campaign` and `preview_campaign` share one code path; the preview writes nothing.
Per batch of contacts: one query for the contacts, four for their facts, one bulk insert.
Renderings, compositions and decisions are cached on what they depend on, so a campaign
whose text does not vary costs one composition, and recipients with the same facts and no
recent history share one decision.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from textopt.campaigns.facts import (
    COUNTED_PLANNED,
    RecipientFacts,
    gather_facts,
    workspace_policy,
)
from textopt.campaigns.models import Campaign
from textopt.campaigns.segments import audience_ids
from textopt.compose import (
    ComposedMessage,
    MessageFrame,
    PriceTable,
    Template,
    compile_template,
    message_frame,
)
from textopt.compose.templates import LANGUAGE_KEY
from textopt.config import Settings
from textopt.contacts.models import Contact, ContactTag
from textopt.db.engine import upsert_insert
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
        self.message = MessageFacts(
            channel=self.channel,
            purpose=self.purpose,
            sender_id=campaign.sender_id,
            expires_at=self.expires,
        )
        self._frames: dict[tuple[str, str], MessageFrame] = {}
        self._composed: dict[tuple[str, str, str], ComposedMessage] = {}
        self._decisions: dict[tuple[Any, ...], Decision] = {}
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

    def compose(self, body: str, country: str, language: str) -> ComposedMessage:
        key = (body, country, language)
        composed = self._composed.get(key)
        if composed is None:
            composed = self.frame(country, language).compose(
                body,
                smart_encoding=self.campaign.smart_encoding,
                fold_accents=self.campaign.fold_accents,
                prices=self.prices,
            )
            if len(self._composed) > 50_000:
                self._composed.clear()  # personalised texts rarely repeat: bound the memory
            self._composed[key] = composed
        return composed

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

    def plan_batch(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        session = self.session
        contacts = list(session.execute(select(*_CONTACT_COLUMNS).where(Contact.id.in_(ids))))
        tags: dict[int, list[str]] = {}
        if self.needs_tags:
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
            "attributes": contact.attributes or {},
            "tags": tags,
            LANGUAGE_KEY: language,
        }
        try:
            body = self.template.render(context)
        except TemplateError as exc:
            report.template_problems[exc.message] += 1
            return None
        try:
            composed = self.compose(body, country, language)
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
        self._count(row, analysis.smart.segments, decision, recipient)
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
        smart_segments: int,
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
        report.smart_saving += abs(segments - smart_segments)
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


_CONTACT_COLUMNS = (
    Contact.id,
    Contact.phone,
    Contact.email,
    Contact.first_name,
    Contact.last_name,
    Contact.language,
    Contact.country,
    Contact.region,
    Contact.timezone,
    Contact.timezones,
    Contact.is_customer,
    Contact.attributes,
)


def _batches(
    session: Session, campaign: Campaign, now: dt.datetime, batch_size: int
) -> Iterator[list[int]]:
    yield from audience_ids(
        session, filter=campaign.audience_filter, now=now, batch_size=batch_size
    )


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
    # Core insert on the table: no ORM bookkeeping per row. A row already planned for this
    # campaign and contact is left as it is, so planning again only adds newcomers.
    statement = upsert_insert(session, Message.__table__).on_conflict_do_nothing(
        index_elements=["campaign_id", "contact_id"]
    )
    connection = session.connection()
    before = _planned_count(session, campaign.id) if write else 0
    for ids in _batches(session, campaign, planner.start, batch_size):
        rows = planner.plan_batch(ids)
        if write and rows and not planner.report.template_problems:
            connection.execute(statement, rows)
        if progress is not None:
            progress(len(ids))
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
