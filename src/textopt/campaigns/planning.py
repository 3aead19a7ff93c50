"""Planning: stream the audience, render, compose, decide, write the outbox in bulk.

`plan_campaign` and `preview_campaign` share one code path; the preview writes nothing.
Per batch of contacts: one query for the contacts, four for their facts, one bulk insert.
Renderings, compositions and decisions are cached on what they depend on, so a campaign
whose text does not vary costs one composition, and recipients with the same facts and no
recent history share one decision.

A campaign on two channels decides each recipient's primary channel first. With `both`,
the other channel is decided too, after the primary's planned send when the frequency budget
is shared; with `sms-else-email` or `email-else-sms`, the other channel is decided (with its
own facts, in one more bulk read) only for recipients the primary cannot reach.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, func, select, type_coerce
from sqlalchemy.orm import Session

from textopt.campaigns.audience import compile_filter, parse_filter
from textopt.campaigns.context import template_context
from textopt.campaigns.emails import FALLBACK_REASONS, EmailComposer
from textopt.campaigns.facts import (
    CONTACT_COLUMNS,
    COUNTED_PLANNED,
    DecisionCache,
    RecipientFacts,
    gather_facts,
    workspace_policy,
)
from textopt.campaigns.models import Campaign, ChannelRule
from textopt.campaigns.plan_report import ChannelPlan, PlanReport
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
from textopt.links.service import link_base, preview_links, rewrite_links, tracks_links
from textopt.policy import Decision, MessageFacts, SendRecord, Verdict, WorkspacePolicy
from textopt.vocab import Channel, Purpose

__all__ = ["ChannelPlan", "PlanReport", "campaign_window", "plan_campaign", "preview_campaign"]

_MICROS = Decimal(1_000_000)
ProgressCallback = Callable[[int], None]


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
        "email_undeliverable_at",
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
        self.email_undeliverable_at = row.email_undeliverable_at
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
    """Per-campaign state of one planning run: compiled templates, caches, counters."""

    def __init__(
        self,
        session: Session,
        campaign: Campaign,
        settings: Settings,
        *,
        now: dt.datetime,
        prices: PriceTable | None,
        write: bool = False,
    ) -> None:
        self.session = session
        self.campaign = campaign
        self.settings = settings
        self.write = write
        # Tracked links: URLs become per-recipient short links before the text is measured,
        # so segments and cost count the short link (a preview uses a link of equal length).
        self.link_base = link_base(settings) if tracks_links(campaign) else None
        self._bodies: dict[int, str] = {}
        self.rule = ChannelRule(campaign.channels)
        self.primary = self.rule.primary
        self.second: Channel | None = self.rule.channels[1] if len(self.rule.channels) > 1 else None
        self.purpose = Purpose(campaign.purpose)
        self.start, self.expires = campaign_window(campaign, now=now)
        self.workspace: WorkspacePolicy = workspace_policy(settings)
        self.prices = prices
        channels = self.rule.channels
        # An email-only campaign has no SMS text to compile.
        self.template: Template = compile_template(
            campaign.template if Channel.SMS in channels else ""
        )
        self.email = EmailComposer(campaign, settings) if Channel.EMAIL in channels else None
        variables = self.template.variables | (self.email.variables if self.email else set())
        self.needs_tags = "tags" in variables
        self.needs_attributes = "attributes" in variables
        self.messages = {
            channel: MessageFacts(
                channel=channel,
                purpose=self.purpose,
                sender_id=campaign.sender_id if channel == Channel.SMS else None,
                expires_at=self.expires,
            )
            for channel in channels
        }
        self.providers = {
            Channel.SMS: campaign.provider,
            Channel.EMAIL: campaign.email_provider or campaign.provider,
        }
        # With a shared budget, a contact's SMS of this campaign counts against its email.
        self.shared_caps = self.workspace.caps_across_channels and self.purpose == Purpose.MARKETING
        self._frames: dict[tuple[str, str], MessageFrame] = {}
        self._composed: dict[tuple[str, str, str], tuple[ComposedMessage, int]] = {}
        self._decider = DecisionCache(self.workspace)
        self._zones: dict[Any, tuple[str, ...]] = {}
        self.report = PlanReport(
            campaign_id=campaign.id,
            start=self.start,
            expires_at=self.expires,
            channel_rule=str(self.rule),
        )
        self.sections = {
            c: self.report.channels.setdefault(c, ChannelPlan(str(c))) for c in channels
        }

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

    def decide(
        self, recipient: RecipientFacts, channel: Channel, extra: tuple[SendRecord, ...] = ()
    ) -> Decision:
        history = recipient.history + extra
        return self._decider.decide(recipient.facts, self.messages[channel], self.start, history)

    # -- one batch ----------------------------------------------------------------------

    def _facts(self, contacts: Sequence[Any], channel: Channel) -> dict[int, RecipientFacts]:
        return gather_facts(
            self.session,
            contacts=contacts,
            channel=channel,
            now=self.start,
            counted=COUNTED_PLANNED,
            exclude_campaign_id=self.campaign.id,
        )

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
        if self.link_base is not None and Channel.SMS in self.rule.channels:
            self._bodies = self._linked_bodies(contacts, tags)
        primary, second = self.primary, self.second
        facts = self._facts(contacts, primary)
        both = second is not None and not self.rule.is_fallback
        other = self._facts(contacts, second) if both and second is not None else {}
        rows: list[dict[str, Any]] = []
        fallback: list[tuple[Any, dict[str, Any]]] = []
        report = self.report
        for contact in contacts:
            report.audience += 1
            context = self.context(contact, tags.get(contact.id, []))
            row = self.plan_channel(primary, contact, facts[contact.id], context)
            if row is None:
                continue
            rows.append(row)
            reached = row["status"] == MessageStatus.PLANNED
            if second is None:
                report.reached += reached
            elif both:
                extra: tuple[SendRecord, ...] = ()
                if reached and self.shared_caps:
                    extra = (SendRecord(at=row["send_at"], channel=primary),)
                row = self.plan_channel(second, contact, other[contact.id], context, extra)
                if row is not None:
                    rows.append(row)
                    reached = reached or row["status"] == MessageStatus.PLANNED
                report.reached += reached
            elif reached:
                report.reached += 1
            elif row["reason"] in FALLBACK_REASONS:
                fallback.append((contact, context))
        if fallback and second is not None:
            other = self._facts([contact for contact, _ in fallback], second)
            for contact, context in fallback:
                row = self.plan_channel(second, contact, other[contact.id], context)
                if row is not None:
                    rows.append(row)
                    report.reached += row["status"] == MessageStatus.PLANNED
        return rows

    def _linked_bodies(self, contacts: Sequence[Any], tags: dict[int, list[str]]) -> dict[int, str]:
        """The batch's SMS texts with their URLs shortened per recipient (bulk)."""
        assert self.link_base is not None
        texts: list[tuple[int, str]] = []
        for contact in contacts:
            try:
                texts.append(
                    (
                        contact.id,
                        self.template.render(self.context(contact, tags.get(contact.id, []))),
                    )
                )
            except TemplateError:
                continue  # counted when the contact is planned
        if self.write:
            bodies = rewrite_links(
                self.session, texts=texts, campaign_id=self.campaign.id, base=self.link_base
            )
        else:
            bodies = [preview_links(text, base=self.link_base) for _, text in texts]
        return {contact_id: body for (contact_id, _), body in zip(texts, bodies, strict=True)}

    def context(self, contact: Any, tags: list[str]) -> dict[str, Any]:
        """What a template may use about one contact."""
        return template_context(contact, tags=tags, attributes=self.needs_attributes)

    def plan_channel(
        self,
        channel: Channel,
        contact: Any,
        recipient: RecipientFacts,
        context: dict[str, Any],
        extra: tuple[SendRecord, ...] = (),
    ) -> dict[str, Any] | None:
        """The outbox row of one contact on one channel, or None for a template problem."""
        self.sections[channel].audience += 1
        if channel == Channel.EMAIL:
            return self.plan_email(contact, recipient, context, extra)
        return self.plan_sms(contact, recipient, context, extra)

    def plan_sms(
        self,
        contact: Any,
        recipient: RecipientFacts,
        context: dict[str, Any],
        extra: tuple[SendRecord, ...] = (),
    ) -> dict[str, Any] | None:
        report = self.report
        campaign = self.campaign
        language = context[LANGUAGE_KEY]
        country = contact.country or "ZZ"
        body = self._bodies.get(contact.id)
        if body is None:
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
        decision = self.decide(recipient, Channel.SMS, extra)
        analysis = composed.analysis
        cost_micros = int(analysis.cost.amount * _MICROS) if analysis.cost else 0
        row = self._row(contact, decision, Channel.SMS, f"c{campaign.id}-{contact.id}")
        row["recipient"] = contact.phone
        row["sender"] = campaign.sender_id
        row["body"] = composed.text
        row["encoding"] = str(analysis.encoding)
        row["segments"] = analysis.segments
        row["cost_micros"] = cost_micros
        row["currency"] = analysis.cost.currency if analysis.cost else report.currency
        if not self._settle(row, decision, self.sections[Channel.SMS], recipient):
            return row
        report.smart_saving += saving
        if report.worst is None or analysis.segments > report.worst["segments"]:
            report.worst = {
                "contact_id": contact.id,
                "text": composed.text,
                "segments": analysis.segments,
                "encoding": str(analysis.encoding),
                "units": analysis.units,
            }
        return row

    def plan_email(
        self,
        contact: Any,
        recipient: RecipientFacts,
        context: dict[str, Any],
        extra: tuple[SendRecord, ...] = (),
    ) -> dict[str, Any] | None:
        assert self.email is not None
        report = self.report
        campaign = self.campaign
        try:
            rendered, headers = self.email.render(contact.id, context)
        except TextoptError as exc:
            report.template_problems[exc.message] += 1
            return None
        decision = self.decide(recipient, Channel.EMAIL, extra)
        row = self._row(contact, decision, Channel.EMAIL, f"c{campaign.id}-{contact.id}-email")
        row.update(
            recipient=recipient.facts.email or contact.email,
            sender=None,
            subject=rendered.subject,
            body=rendered.text,
            html=rendered.html,
            headers=headers,
            encoding=None,
            segments=1,  # the dispatcher's token bucket counts one per email
            cost_micros=self.email.cost_micros,
            currency=report.currency,
        )
        if not self._settle(row, decision, self.sections[Channel.EMAIL], recipient):
            row.update(body=None, html=None, headers=None)  # never sent: the reason is enough
        return row

    def _row(self, contact: Any, decision: Decision, channel: Channel, key: str) -> dict[str, Any]:
        """The outbox columns every channel fills the same way."""
        return {
            "campaign_id": self.campaign.id,
            "contact_id": contact.id,
            "channel": channel,
            "purpose": self.purpose,
            "country": contact.country,
            "pack": decision.pack,
            "expires_at": self.expires,
            "decided_at": self.start,
            "provider": self.providers[channel],
            "idempotency_key": key,
            "deferred": False,
            "reason": None,
            "reason_text": decision.sentence,
        }

    def _settle(
        self,
        row: dict[str, Any],
        decision: Decision,
        section: ChannelPlan,
        recipient: RecipientFacts,
    ) -> bool:
        """Apply the decision to the row and count it; whether the message is to go."""
        report = self.report
        if decision.verdict == Verdict.BLOCK:
            reason = str(decision.reason)
            report.blocked[reason] += 1
            section.blocked[reason] += 1
            row.update(status=MessageStatus.BLOCKED, reason=reason, send_at=None)
            return False
        if decision.verdict == Verdict.DEFER:
            reason = str(decision.reason)
            report.deferred[reason] += 1
            section.deferred[reason] += 1
            row.update(
                status=MessageStatus.PLANNED, send_at=decision.at, deferred=True, reason=reason
            )
        else:
            report.send_now += 1
            section.send_now += 1
            row.update(status=MessageStatus.PLANNED, send_at=self.start)
        self._count(row, decision, recipient, section)
        return True

    def _count(
        self,
        row: Mapping[str, Any],
        decision: Decision,
        recipient: RecipientFacts,
        section: ChannelPlan,
    ) -> None:
        report = self.report
        segments = row["segments"]
        cost = row["cost_micros"]
        report.segments += segments
        report.cost_micros += cost
        report.currency = row["currency"]
        section.segments += segments
        section.cost_micros += cost
        key = f"{row['country'] or '??'}/{row['encoding'] or row['channel']}"
        bucket = report.by_country.setdefault(key, {"messages": 0, "segments": 0, "cost_micros": 0})
        bucket["messages"] += 1
        bucket["segments"] += segments
        bucket["cost_micros"] += cost
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
) -> Iterator[Sequence[Any]]:
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
        rows = connection.execute(query.where(Contact.id > last_id)).all()
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
#: An email row's extra columns, after the common ones.
_EMAIL_COLUMNS = ("subject", "html", "headers")


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

        def insert(columns: Sequence[str]) -> str:
            return (
                f"INSERT INTO messages ({', '.join(columns)}) "
                f"VALUES ({', '.join([marker] * len(columns))}) "
                "ON CONFLICT (campaign_id, contact_id, channel) DO NOTHING"
            )

        self.sql = insert(_OUTBOX_COLUMNS)
        self.email_sql = insert(_OUTBOX_COLUMNS + _EMAIL_COLUMNS)
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
        sms = [r for r in rows if r["channel"] == Channel.SMS]
        if len(sms) < len(rows):
            emails = [r for r in rows if r["channel"] == Channel.EMAIL]
            values = self._values(emails)
            extras = [
                (r["subject"], r["html"], json.dumps(r["headers"]) if r["headers"] else None)
                for r in emails
            ]
            self.connection.exec_driver_sql(
                self.email_sql, [v + e for v, e in zip(values, extras, strict=True)]
            )
        if sms:
            self.connection.exec_driver_sql(self.sql, self._values(sms))

    def _values(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        now = self._instant(self.now)
        return [
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
    planner = _Planner(session, campaign, settings, now=now, prices=prices, write=write)
    for channel, section in planner.sections.items():
        account = settings.providers.get(planner.providers[channel], {})
        rate = campaign.throughput if channel == Channel.SMS else None
        section.throughput = float(rate or account.get("rate", 0) or 0)
    planner.report.throughput = planner.sections[planner.primary].throughput
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
