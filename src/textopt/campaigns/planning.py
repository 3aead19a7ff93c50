"""Planning: stream the audience, render, compose, decide, write the outbox in bulk.

`plan_campaign` and `preview_campaign` share one code path; the preview writes nothing.
SMS campaigns with plain templates are planned by class of recipient (`plan_classes`):
the per-recipient code below then plans only the first recipient of each class and text,
and the recipients with recent marketing or on the suppression list.
Per batch of contacts: one query for the contacts with their consent, two or three for the
rest of their facts (cap history, a long suppression list, tags), and multi-row inserts that
run in a thread while the next batch is planned. Compositions and decisions are cached on
what they depend on, so a campaign whose text does not vary costs one composition, and
recipients with the same facts and the same recent marketing (`history_key`: the messages
of one earlier batch share their instant) share one decision; the report is tallied once
per distinct outcome.

A campaign on two channels decides each recipient's primary channel first. With `both`,
the other channel is decided too, after the primary's planned send when the frequency budget
is shared; with `sms-else-email` or `email-else-sms`, the other channel is decided (with its
own facts, read with the batch's) only for recipients the primary cannot reach.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections import Counter, namedtuple
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, func, select, type_coerce
from sqlalchemy.orm import Session

from textopt.campaigns.audience import compile_filter, parse_filter
from textopt.campaigns.context import context_builder
from textopt.campaigns.emails import FALLBACK_REASONS, EmailComposer
from textopt.campaigns.models import Campaign, ChannelRule
from textopt.campaigns.plan_classes import ClassPlanner, FastInsert, FastRows
from textopt.campaigns.plan_report import ChannelPlan, PlanReport
from textopt.compose import (
    MessageFrame,
    PriceTable,
    Template,
    check_segment_limit,
    compile_template,
    count_segments,
    message_frame,
)
from textopt.compose.templates import LANGUAGE_KEY
from textopt.config import Settings
from textopt.consent.service import consent_summary
from textopt.consent.suppression import address_digester
from textopt.contacts.models import Contact, ContactTag
from textopt.db.batching import id_conditions, keyset_pages
from textopt.db.engine import CHANGES_AT_BEGIN, SNAPSHOT
from textopt.dispatch.models import Message
from textopt.dispatch.states import MessageStatus
from textopt.eligibility import (
    COUNTED_PLANNED,
    EligibilityBatch,
    SuppressionLookup,
    read_eligibility,
    usable_email,
    workspace_policy,
)
from textopt.errors import TemplateError, TextoptError
from textopt.links.service import link_base, preview_links, rewrite_links, tracks_links
from textopt.policy import (
    Decision,
    MessageFacts,
    SendRecord,
    Verdict,
    WorkspacePolicy,
    decide,
    history_key,
)
from textopt.vocab import Channel, Purpose

__all__ = ["ChannelPlan", "PlanReport", "campaign_window", "plan_campaign", "preview_campaign"]

_MICROS = Decimal(1_000_000)
ProgressCallback = Callable[[int], None]


def campaign_window(campaign: Campaign, *, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The campaign's start (its `send_at`, or now) and its expiry."""
    start = max(campaign.send_at or now, now)
    expires = campaign.expires_at or start + dt.timedelta(hours=campaign.validity_hours)
    return start, expires


_EMPTY: dict[str, Any] = {}


@dataclass(slots=True)
class _ChannelState:
    """One channel of a planning run: its message, account, section and decisions."""

    channel: Channel
    message: MessageFacts
    provider: str | None
    section: ChannelPlan
    suppression: SuppressionLookup | None = None
    # decision key -> (decision, its outbox columns: pack ... send_at)
    decisions: dict[tuple[Any, ...], tuple[Decision, tuple[Any, ...]]] = field(default_factory=dict)


#: What planning one contact on one channel gave: (verdict, deferred to, reason).
_Outcome = tuple[Verdict, dt.datetime | None, Any]


@dataclass(slots=True)
class _Fetched:
    """What one batch needs from the database, read before the pure-Python work."""

    tags: dict[int, list[str]]
    bodies: dict[int, str]
    facts: dict[Channel, EligibilityBatch]


@dataclass(slots=True)
class _Rows:
    """The outbox rows of one batch, as tuples in the writer's column order."""

    sms: list[tuple[Any, ...]] = field(default_factory=list)
    email: list[tuple[Any, ...]] = field(default_factory=list)
    fast: FastRows | None = None  # the set-based path's share (see plan_classes)

    def __bool__(self) -> bool:
        return bool(self.sms or self.email or self.fast)


class _Planner:
    """Per-campaign state of one planning run: compiled templates, caches, counters.

    The hot path works on plain rows and tuples: a recipient costs a few dictionary
    lookups when their facts match an earlier recipient's, and the report is tallied per
    distinct outcome rather than per recipient.
    """

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
        self.campaign_id = campaign.id
        self.settings = settings
        self.write = write
        # Tracked links: URLs become per-recipient short links before the text is measured,
        # so segments and cost count the short link (a preview uses a link of equal length).
        self.link_base = link_base(settings) if tracks_links(campaign) else None
        self.rule = ChannelRule(campaign.channels)
        self.primary = self.rule.primary
        self.second: Channel | None = self.rule.channels[1] if len(self.rule.channels) > 1 else None
        self.purpose = Purpose(campaign.purpose)
        self.start, self.expires = campaign_window(campaign, now=now)
        self.workspace: WorkspacePolicy = workspace_policy(settings)
        self.prices = prices
        self.sender = campaign.sender_id
        self.brand = campaign.brand_name
        self.smart_encoding = campaign.smart_encoding
        self.fold_accents = campaign.fold_accents
        channels = self.rule.channels
        # An email-only campaign has no SMS text to compile.
        self.template: Template = compile_template(
            campaign.template if Channel.SMS in channels else ""
        )
        self.email = EmailComposer(campaign, settings) if Channel.EMAIL in channels else None
        variables = self.template.variables | (self.email.variables if self.email else set())
        self.needs_tags = "tags" in variables
        self.needs_attributes = "attributes" in variables
        # Decoded attributes are shared between contacts with the same ones, unless a
        # template runs Jinja code (which might change them).
        self.share_attributes = self.template.is_simple and self.email is None
        self.build_context = context_builder(
            variables, {name: i for i, name in enumerate(_CONTACT_ROW)}
        )
        providers = {
            Channel.SMS: campaign.provider,
            Channel.EMAIL: campaign.email_provider or campaign.provider,
        }
        self.report = PlanReport(
            campaign_id=campaign.id,
            start=self.start,
            expires_at=self.expires,
            channel_rule=str(self.rule),
        )
        self.channels = {
            channel: _ChannelState(
                channel=channel,
                message=MessageFacts(
                    channel=channel,
                    purpose=self.purpose,
                    sender_id=campaign.sender_id if channel == Channel.SMS else None,
                    expires_at=self.expires,
                ),
                provider=providers[channel],
                section=self.report.channels.setdefault(channel, ChannelPlan(str(channel))),
            )
            for channel in channels
        }
        self.sections = {c: state.section for c, state in self.channels.items()}
        # With a shared budget, a contact's SMS of this campaign counts against its email.
        self.shared_caps = self.workspace.caps_across_channels and self.purpose == Purpose.MARKETING
        self._frames: dict[tuple[str, str], MessageFrame] = {}
        self._composed: dict[tuple[str, str, str], tuple[Any, ...]] = {}
        self._zones: dict[Any, tuple[str, ...]] = {}
        self._attributes: dict[Any, dict[str, Any]] = {}
        self._instants = _Instants(session)
        self._starts = self._instants(self.start)
        self._expires = self._instants(self.expires)
        stamp = self._instants(now)
        self._created = (0, stamp, stamp)  # attempts, created_at, updated_at
        # Tally of planned messages per distinct outcome, folded into the report per batch.
        self._tally: Counter[tuple[Any, ...]] = Counter()
        self._alive: dict[int, Decision] = {}  # the decisions the tally names, by id
        self._worst_segments = -1

    # -- caches -------------------------------------------------------------------------

    def frame(self, country: str, language: str) -> MessageFrame:
        key = (country, language)
        frame = self._frames.get(key)
        if frame is None:
            frame = message_frame(
                purpose=self.purpose,
                country=country,
                brand=self.brand,
                stop_number=self.settings.stop_number,
                language=language,
            )
            self._frames[key] = frame
        return frame

    def compose(self, body: str, country: str, language: str) -> tuple[Any, ...]:
        """(text, encoding, segments, cost, currency, smart-encoding saving, units)."""
        key = (body, country, language)
        found = self._composed.get(key)
        if found is None:
            frame = self.frame(country, language)
            composed = frame.compose(
                body,
                smart_encoding=self.smart_encoding,
                fold_accents=self.fold_accents,
                prices=self.prices,
            )
            analysis = composed.analysis
            check_segment_limit(analysis.segments, limit=self.settings.max_segments_per_message)
            if self.smart_encoding:
                saving = count_segments(frame.apply(body)[0]) - analysis.segments
            else:
                saving = analysis.segments - analysis.smart.segments
            cost = analysis.cost
            if len(self._composed) > 50_000:
                self._composed.clear()  # personalised texts rarely repeat: bound the memory
            found = self._composed[key] = (
                composed.text,
                str(analysis.encoding),
                analysis.segments,
                int(cost.amount * _MICROS) if cost else 0,
                cost.currency if cost else None,
                max(saving, 0),
                analysis.units,
            )
        return found

    def zones(self, raw: Any) -> tuple[str, ...]:
        """Candidate zones from their stored JSON text (parsed once per distinct value)."""
        if not isinstance(raw, str):  # a driver that decodes JSON itself (psycopg, jsonb)
            return tuple(raw or ())
        parsed = self._zones.get(raw)
        if parsed is None:
            parsed = self._zones[raw] = tuple(json.loads(raw))
        return parsed

    def attributes(self, raw: Any) -> dict[str, Any]:
        """A contact's attributes from their stored JSON text."""
        if not isinstance(raw, str):
            return dict(raw or {})
        if not self.share_attributes:
            return json.loads(raw) or {}
        parsed = self._attributes.get(raw)
        if parsed is None:
            if len(self._attributes) > 50_000:
                self._attributes.clear()
            parsed = self._attributes[raw] = json.loads(raw) or {}
        return parsed

    def decide(
        self,
        state: _ChannelState,
        contact: Any,
        facts: EligibilityBatch,
        extra: tuple[SendRecord, ...] = (),
        key: tuple[Any, ...] | None = None,
        history: tuple[SendRecord, ...] | None = None,
    ) -> tuple[Decision, tuple[Any, ...]]:
        """The decision for one contact on one channel, and its outbox columns.

        With `key`, the answer is remembered for every recipient with that key: the key
        holds the contact's `history` (`history_key`) when it has any. Without `history`,
        the contact's history in `facts` and the `extra` sends of this run are used.
        """
        if history is None:
            history = (*facts.history.get(contact.id, ()), *extra)
        decision = decide(
            facts.contact_facts(contact, self.zones(contact.timezones_json)),
            state.message,
            self.start,
            history,
            self.workspace,
        )
        found = (decision, self._columns(decision))
        if key is not None:
            if len(state.decisions) >= 100_000:
                state.decisions.clear()
            state.decisions[key] = found
        return found

    def tally(
        self,
        channel: Channel,
        decision: Decision,
        country: str | None,
        zone: str | None,
        composed: tuple[Any, ...],
        count: int,
    ) -> None:
        """Count `count` messages of one outcome into the batch's tally (see `fold_tally`)."""
        self._alive[id(decision)] = decision
        self._tally[(channel, id(decision), country, zone, composed)] += count

    @property
    def worst_segments(self) -> int:
        """The segments of the plan's longest message so far (-1 before the first)."""
        return self._worst_segments

    def set_worst(self, contact_id: int, composed: tuple[Any, ...]) -> None:
        """Show `composed` (for `contact_id`) as the plan's longest message."""
        text, encoding, segments, _, _, _, units = composed
        self._worst_segments = segments
        self.report.worst = {
            "contact_id": contact_id,
            "text": text,
            "segments": segments,
            "encoding": encoding,
            "units": units,
        }

    def _columns(self, decision: Decision) -> tuple[Any, ...]:
        """pack, status, reason, reason_text, deferred, send_at: what a decision writes."""
        verdict = decision.verdict
        if verdict == Verdict.BLOCK:
            status, send_at, deferred = MessageStatus.BLOCKED, None, False
        elif verdict == Verdict.DEFER:
            status, send_at, deferred = MessageStatus.PLANNED, decision.at, True
        else:
            status, send_at, deferred = MessageStatus.PLANNED, self.start, False
        reason = str(decision.reason) if verdict != Verdict.SEND else None
        return (
            decision.pack,
            str(status),
            reason,
            decision.sentence,
            deferred,
            self._instants(send_at),
        )

    # -- one batch ----------------------------------------------------------------------

    def suppression(self, channel: Channel) -> SuppressionLookup:
        """The channel's suppression list for this run (read once when it is short)."""
        state = self.channels[channel]
        if state.suppression is None:
            digest = address_digester(self.settings.resolved_secret_key())  # a key file
            state.suppression = SuppressionLookup(self.session, channel, digest=digest)
        return state.suppression

    def contacts_by_id(self, ids: Collection[int]) -> list[Any]:
        """Whole contact rows (as the pages give them) of these contacts."""
        found: list[Any] = []
        if not ids:
            return found
        connection = self.session.connection()
        wanted = set(ids)
        for condition in id_conditions(Contact.id, wanted):
            result = connection.execute(select(*_contact_columns()).where(condition))
            try:
                rows = result.cursor.fetchall()
            finally:
                result.close()
            # a range may hold contacts that were not asked for
            found.extend(_ContactTuple._make(row) for row in rows if row[0] in wanted)
        return found

    def _facts(
        self, contacts: Sequence[Any], channel: Channel, consents: dict[int, str]
    ) -> EligibilityBatch:
        return read_eligibility(
            self.session,
            contacts=contacts,
            channel=channel,
            now=self.start,
            counted=COUNTED_PLANNED,
            exclude_campaign_id=self.campaign_id,
            suppression=self.suppression(channel),
            consents=consents,
        )

    def fetch(self, contacts: Sequence[Any]) -> _Fetched:
        """Everything the batch needs from the database (the only part that reads it)."""
        tags: dict[int, list[str]] = {}
        if self.needs_tags:
            ids = [c.id for c in contacts]
            query = select(ContactTag.contact_id, ContactTag.tag).where(
                ContactTag.contact_id.in_(ids)
            )
            for contact_id, tag in self.session.connection().execute(query):
                tags.setdefault(contact_id, []).append(tag)
        bodies: dict[int, str] = {}
        if self.link_base is not None and Channel.SMS in self.rule.channels:
            bodies = self._linked_bodies(contacts, tags)
        # A fallback channel's facts are read for the whole batch: the pure-Python part
        # that finds who needs it must not wait for the database.
        consents = {c[0]: c[-1] for c in contacts if c[-1] is not None}  # the last column
        facts = {channel: self._facts(contacts, channel, consents) for channel in self.channels}
        return _Fetched(tags=tags, bodies=bodies, facts=facts)

    def compute(self, contacts: Sequence[Any], fetched: _Fetched) -> _Rows:
        """The batch's outbox rows, and its share of the report (no database work)."""
        rows = _Rows()
        report = self.report
        report.audience += len(contacts)
        tags, build = fetched.tags, self.build_context
        if self.needs_attributes:
            attributes = self.attributes
            contexts = [build(c, attributes(c[11]), tags.get(c[0], ())) for c in contacts]
        elif tags:
            contexts = [build(c, _EMPTY, tags.get(c[0], ())) for c in contacts]
        else:
            contexts = [build(c, _EMPTY, ()) for c in contacts]
        first = self.plan_channel(self.primary, contacts, contexts, fetched, rows)
        if self.second is None:
            report.reached += sum(o is not None and o[0] != Verdict.BLOCK for o in first)
        elif not self.rule.is_fallback:  # both channels
            planned = [i for i, o in enumerate(first) if o is not None]
            extras: dict[int, tuple[SendRecord, ...]] = {}
            if self.shared_caps:
                for i in planned:
                    verdict, at, _ = first[i]  # type: ignore[misc]
                    if verdict != Verdict.BLOCK:
                        record = SendRecord(at=at or self.start, channel=self.primary)
                        extras[contacts[i].id] = (record,)
            other = self.plan_channel(
                self.second,
                [contacts[i] for i in planned],
                [contexts[i] for i in planned],
                fetched,
                rows,
                extras,
            )
            for i, outcome in zip(planned, other, strict=True):
                primary = first[i]
                report.reached += (primary is not None and primary[0] != Verdict.BLOCK) or (
                    outcome is not None and outcome[0] != Verdict.BLOCK
                )
        else:  # the second channel for those the first cannot reach
            report.reached += sum(o is not None and o[0] != Verdict.BLOCK for o in first)
            wanted = [
                i
                for i, o in enumerate(first)
                if o is not None and o[0] == Verdict.BLOCK and o[2] in FALLBACK_REASONS
            ]
            other = self.plan_channel(
                self.second,
                [contacts[i] for i in wanted],
                [contexts[i] for i in wanted],
                fetched,
                rows,
            )
            report.reached += sum(o is not None and o[0] != Verdict.BLOCK for o in other)
        self.fold_tally()
        return rows

    def _linked_bodies(self, contacts: Sequence[Any], tags: dict[int, list[str]]) -> dict[int, str]:
        """The batch's SMS texts with their URLs shortened per recipient (bulk)."""
        assert self.link_base is not None
        texts: list[tuple[int, str]] = []
        for contact in contacts:
            attributes = self.attributes(contact.attributes_json) if self.needs_attributes else {}
            context = self.build_context(contact, attributes, tags.get(contact.id, ()))
            try:
                texts.append((contact.id, self.template.render(context)))
            except TemplateError:
                continue  # counted when the contact is planned
        if self.write:
            bodies = rewrite_links(
                self.session, texts=texts, campaign_id=self.campaign_id, base=self.link_base
            )
        else:
            bodies = [preview_links(text, base=self.link_base) for _, text in texts]
        return {contact_id: body for (contact_id, _), body in zip(texts, bodies, strict=True)}

    def plan_channel(
        self,
        channel: Channel,
        contacts: Sequence[Any],
        contexts: Sequence[dict[str, Any]],
        fetched: _Fetched,
        rows: _Rows,
        extras: dict[int, tuple[SendRecord, ...]] | None = None,
    ) -> list[_Outcome | None]:
        """Plan contacts on one channel: per contact (verdict, deferred to, reason), or
        None for a template problem."""
        state = self.channels[channel]
        state.section.audience += len(contacts)
        facts = fetched.facts[channel]
        if channel == Channel.EMAIL:
            return self.plan_email(state, contacts, contexts, facts, rows, extras)
        return self.plan_sms(state, contacts, contexts, facts, fetched.bodies, rows, extras)

    def plan_sms(
        self,
        state: _ChannelState,
        contacts: Sequence[Any],
        contexts: Sequence[dict[str, Any]],
        facts: EligibilityBatch,
        bodies: dict[int, str],
        rows: _Rows,
        extras: dict[int, tuple[SendRecord, ...]] | None,
    ) -> list[_Outcome | None]:
        """The SMS rows of a batch: the hot loop of planning."""
        report = self.report
        problems = report.template_problems
        outcomes: list[_Outcome | None] = []
        append_outcome, append_row = outcomes.append, rows.sms.append
        render, composed_cache, compose = self.template.render, self._composed, self.compose
        history, decisions, decide_one = facts.history, state.decisions, self.decide
        tally, alive = self._tally, self._alive
        campaign_id, purpose, sender = self.campaign_id, self.purpose.value, self.sender
        tail = (self._expires, self._starts, state.provider)
        created = self._created
        key_prefix = f"c{campaign_id}-"
        fallback_currency = report.currency
        key_of = facts.key_of
        for contact, context in zip(contacts, contexts, strict=True):
            # the row by position: an attribute read of a database row costs more
            (
                contact_id,
                phone,
                email,
                country,
                region,
                zone,
                is_customer,
                _,
                _,
                _,
                raw_zones,
                _,
                bounced,
                phone_type,
                _,
            ) = contact
            body = bodies.get(contact_id) if bodies else None
            try:
                if body is None:
                    body = render(context)
                composed_key = (body, country or "ZZ", context[LANGUAGE_KEY])
                composed = composed_cache.get(composed_key)
                if composed is None:
                    composed = compose(*composed_key)
            except TextoptError as exc:  # a template error, or a text that cannot be sent
                problems[exc.message] += 1
                append_outcome(None)
                continue
            extra = extras.get(contact_id) if extras else None
            key = key_of(
                contact_id,
                phone,
                email if bounced is None else None,
                country,
                region,
                zone,
                raw_zones if type(raw_zones) is str else tuple(raw_zones or ()),
                is_customer,
                phone_type,
            )
            records = None
            if extra or (history and contact_id in history):
                records = history_key(history.get(contact_id, ()), extra or ())
                key = (key, records)
            found = decisions.get(key)
            if found is None:
                found = decide_one(state, contact, facts, (), key, records)
            decision, columns = found
            text, encoding, segments, cost, currency, _, _ = composed
            append_row(
                (
                    campaign_id,
                    contact_id,
                    "sms",
                    purpose,
                    phone,
                    sender,
                    text,
                    encoding,
                    segments,
                    cost,
                    currency or fallback_currency,
                    country,
                    *columns,
                    *tail,
                    key_prefix + str(contact_id),
                    *created,
                )
            )
            alive[id(decision)] = decision
            tally[(Channel.SMS, id(decision), country, zone, composed)] += 1
            verdict = decision.verdict
            if verdict != Verdict.BLOCK and segments > self._worst_segments:
                self.set_worst(contact_id, composed)
            append_outcome((verdict, decision.at, decision.reason))
        return outcomes

    def plan_email(
        self,
        state: _ChannelState,
        contacts: Sequence[Any],
        contexts: Sequence[dict[str, Any]],
        facts: EligibilityBatch,
        rows: _Rows,
        extras: dict[int, tuple[SendRecord, ...]] | None,
    ) -> list[_Outcome | None]:
        """The email rows of a batch (each rendered with the recipient's own links)."""
        assert self.email is not None
        report = self.report
        outcomes: list[_Outcome | None] = []
        cost = self.email.cost_micros
        # encoding, segments (the token bucket counts one per email), cost, currency, saving
        composed = (None, None, 1, cost, report.currency, 0, 0)
        for contact, context in zip(contacts, contexts, strict=True):
            try:
                rendered, headers = self.email.render(contact.id, context)
            except TextoptError as exc:
                report.template_problems[exc.message] += 1
                outcomes.append(None)
                continue
            extra = extras.get(contact.id, ()) if extras else ()
            raw_zones = contact.timezones_json
            key = facts.decision_key(
                contact, raw_zones if type(raw_zones) is str else tuple(raw_zones or ())
            )
            records = None
            if extra or contact.id in facts.history:
                records = history_key(facts.history.get(contact.id, ()), extra)
                key = (key, records)
            found = state.decisions.get(key) or self.decide(state, contact, facts, (), key, records)
            decision, columns = found
            blocked = decision.verdict == Verdict.BLOCK
            rows.email.append(
                (
                    self.campaign_id,
                    contact.id,
                    "email",
                    self.purpose.value,
                    usable_email(contact) or contact.email,
                    None,
                    None if blocked else rendered.text,  # never sent: the reason is enough
                    None,
                    1,
                    cost,
                    report.currency,
                    contact.country,
                    *columns,
                    self._expires,
                    self._starts,
                    state.provider,
                    f"c{self.campaign_id}-{contact.id}-email",
                    *self._created,
                    rendered.subject,
                    None if blocked else rendered.html,
                    None if blocked or not headers else json.dumps(headers),
                )
            )
            self._alive[id(decision)] = decision
            self._tally[
                (Channel.EMAIL, id(decision), contact.country, contact.timezone, composed)
            ] += 1
            outcomes.append((decision.verdict, decision.at, decision.reason))
        return outcomes

    def fold_tally(self) -> None:
        """Count the batch's messages into the report, once per distinct outcome."""
        report = self.report
        default_zone = self.workspace.default_timezone
        for key, count in self._tally.items():
            channel, decision_id, country, zone, composed = key
            _, encoding, segments, cost, currency, saving, _ = composed
            decision = self._alive[decision_id]
            section = self.sections[channel]
            reason = str(decision.reason)
            if decision.verdict == Verdict.BLOCK:
                report.blocked[reason] += count
                section.blocked[reason] += count
                continue
            if decision.verdict == Verdict.DEFER:
                report.deferred[reason] += count
                section.deferred[reason] += count
                send_at = decision.at
            else:
                report.send_now += count
                section.send_now += count
                send_at = self.start
            assert send_at is not None
            currency = currency or report.currency
            report.segments += segments * count
            report.cost_micros += cost * count
            report.currency = currency
            section.segments += segments * count
            section.cost_micros += cost * count
            report.smart_saving += saving * count
            bucket = report.by_country.setdefault(
                f"{country or '??'}/{encoding or channel}",
                {"messages": 0, "segments": 0, "cost_micros": 0},
            )
            bucket["messages"] += count
            bucket["segments"] += segments * count
            bucket["cost_micros"] += cost * count
            if zone is None:
                zone = decision.timezones[0] if decision.timezones else default_zone
            local = send_at.astimezone(_zone(zone))
            day = report.hours.setdefault(local.strftime("%Y-%m-%d %a"), [0] * 24)
            day[local.hour] += count
        self._tally.clear()
        self._alive.clear()


class _Instants:
    """Instants in the form the database stores them, converted once per distinct value."""

    def __init__(self, session: Session) -> None:
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self._known: dict[dt.datetime, Any] = {}

    def __call__(self, value: dt.datetime | None) -> Any:
        if value is None:
            return None
        converted = self._known.get(value)
        if converted is None:
            utc = value.astimezone(dt.UTC)
            # the storage format of SQLAlchemy's SQLite DateTime, read back by UTCDateTime
            converted = utc.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else utc
            if len(self._known) > 100_000:
                self._known.clear()
            self._known[value] = converted
        return converted


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    zone = _ZONES.get(name)
    if zone is None:
        zone = _ZONES[name] = ZoneInfo(name)
    return zone


#: The columns of the contact rows planning reads, in order (the hot loop unpacks them).
_CONTACT_ROW = (
    "id",
    "phone",
    "email",
    "country",
    "region",
    "timezone",
    "is_customer",
    "first_name",
    "last_name",
    "language",
    "timezones_json",
    "attributes_json",
    "email_undeliverable_at",
    "phone_type",
    "consents",
)
_ContactTuple = namedtuple("_ContactTuple", _CONTACT_ROW)  # type: ignore[misc]


@functools.cache
def _contact_columns() -> tuple[Any, ...]:
    """The columns of `_CONTACT_ROW`, JSON as its stored text, consent read with the contact
    (built once: a statement of the same columns is then compiled once)."""
    as_text = {
        "timezones_json": Contact.timezones,
        "attributes_json": Contact.attributes,
        "email_undeliverable_at": Contact.email_undeliverable_at,
    }
    columns = [
        type_coerce(as_text[name], Text).label(name) if name in as_text else getattr(Contact, name)
        for name in _CONTACT_ROW[:-1]
    ]
    columns.append(consent_summary(Contact.id).label("consents"))
    return tuple(columns)


def _contact_batches(
    session: Session, campaign: Campaign, now: dt.datetime, batch_size: int
) -> Iterator[Sequence[Any]]:
    """The audience's contact rows in keyset pages (never the whole list in memory).

    JSON columns come back as text and are parsed once per distinct value: most contacts
    share their zones, and attributes are parsed only when the template uses them. Only
    the presence of a bounce date matters here.
    """
    condition = compile_filter(parse_filter(campaign.audience_filter), now=now)
    query = select(*_contact_columns()).where(condition)
    # Core rows: no ORM bookkeeping on the hot path; the driver's tuples, named
    for rows in keyset_pages(session.connection(), query, Contact.id, batch_size):
        yield list(map(_ContactTuple._make, rows))


#: The outbox columns planning writes, in the order of the rows' tuples.
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
    """Multi-row INSERT … ON CONFLICT DO NOTHING through the driver's own cursor.

    Planning is the hot path. Each statement inserts many rows at once, so the database
    works without Python between rows, and the driver binds the values in C and runs the
    insert without the interpreter lock: `_run` writes one batch while the next is planned.
    """

    def __init__(self, session: Session, planner: _Planner | None = None) -> None:
        self.connection = session.connection()
        dialect = self.connection.dialect
        self.marker = "?" if dialect.paramstyle == "qmark" else "%s"
        driver = self.connection.connection.driver_connection
        assert driver is not None
        self.driver = driver
        # An in-memory SQLite database lives in one connection tied to its thread.
        database = self.connection.engine.url.database
        self.threads = dialect.name != "sqlite" or database not in (None, "", ":memory:")
        # SQLite: as many rows per statement as it takes parameters. PostgreSQL plans a
        # long VALUES list slowly: one row per statement, pipelined by the driver.
        self.multirow = isinstance(driver, sqlite3.Connection)
        limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if self.multirow else 0
        self.chunk = {
            "sms": limit // len(_OUTBOX_COLUMNS),
            "email": limit // (len(_OUTBOX_COLUMNS) + len(_EMAIL_COLUMNS)),
        }
        self._sql: dict[tuple[str, int], str] = {}
        self.fast = (
            FastInsert(planner, marker=self.marker, multirow_limit=limit)
            if planner is not None
            else None
        )

    def _statement(self, kind: str, count: int) -> str:
        sql = self._sql.get((kind, count))
        if sql is None:
            columns = _OUTBOX_COLUMNS + (_EMAIL_COLUMNS if kind == "email" else ())
            one = f"({', '.join([self.marker] * len(columns))})"
            sql = self._sql[(kind, count)] = (
                f"INSERT INTO messages ({', '.join(columns)}) VALUES "
                f"{', '.join([one] * count)} "
                "ON CONFLICT (campaign_id, contact_id, channel) DO NOTHING"
            )
        return sql

    def write(self, rows: _Rows) -> None:
        """Insert the batch's rows (existing ones are kept as they are)."""
        cursor = self.driver.cursor()
        try:
            for kind, batch in (("sms", rows.sms), ("email", rows.email)):
                if not self.multirow:
                    if batch:
                        cursor.executemany(self._statement(kind, 1), batch)
                    continue
                size = self.chunk[kind]
                for begin in range(0, len(batch), size):
                    chunk = batch[begin : begin + size]
                    values = list(chain.from_iterable(chunk))
                    cursor.execute(self._statement(kind, len(chunk)), values)
            if rows.fast:
                assert self.fast is not None
                self.fast.write(cursor, rows.fast)
        finally:
            cursor.close()


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
        account = settings.providers.get(planner.channels[channel].provider or "", {})
        rate = campaign.throughput if channel == Channel.SMS else None
        section.throughput = float(rate or account.get("rate", 0) or 0)
    planner.report.throughput = planner.sections[planner.primary].throughput
    classes = ClassPlanner(planner) if ClassPlanner.applies(planner) else None
    writer = _OutboxWriter(session, planner if classes else None) if write else None
    before = _planned_count(session, campaign.id) if write else 0
    if classes is not None:
        connection = session.connection()
        if write:
            classes.create_tables(connection)
        reader = _snapshot_session(session) if writer is not None and writer.threads else None
        try:
            if reader is not None:
                planner.session = classes.session = reader  # every read; the writer writes
            _plan_by_class(planner, classes, writer, batch_size=batch_size, progress=progress)
        finally:
            if reader is not None:
                planner.session = classes.session = session
                bind = reader.get_bind()
                reader.close()
                bind.close()  # type: ignore[union-attr]
        if write:
            classes.drop_tables(connection)
            planner.report.written = _planned_count(session, campaign.id) - before
        return planner.report
    # While the main thread plans batch n, a thread writes batch n-1: the driver binds and
    # inserts without the interpreter lock. The connection is used by one thread at a time:
    # reading a page and the batch's facts waits until the write is done. (Reads stay on
    # the main thread: the driver takes the lock back for every row it reads.)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-writer") as background:
        pending: _Rows | None = None
        for contacts in _contact_batches(session, campaign, planner.start, batch_size):
            fetched = planner.fetch(contacts)
            step = None
            if writer is not None and pending:
                if writer.threads:
                    step = background.submit(writer.write, pending)
                else:
                    writer.write(pending)
            try:
                rows = planner.compute(contacts, fetched)
            finally:
                if step is not None:
                    step.result()  # the connection is free again
            pending = rows if not planner.report.template_problems else None
            if progress is not None:
                progress(len(contacts))
        if writer is not None and pending:
            writer.write(pending)
    if write:
        planner.report.written = _planned_count(session, campaign.id) - before
    return planner.report


def _plan_by_class(
    planner: _Planner,
    classes: ClassPlanner,
    writer: _OutboxWriter | None,
    *,
    batch_size: int,
    progress: ProgressCallback | None,
) -> None:
    """`_run` by class of recipient: the page's outbox rows are built by the database.

    With a reading connection of its own (`_snapshot_session`), pages are read and planned
    while the writer's thread writes the previous one; otherwise the connection is shared,
    and the reads wait for the write as in `_run`.
    """
    shared = writer is not None and planner.session.connection() is writer.connection
    threads = writer is not None and writer.threads

    def write(rows: _Rows | None) -> Any:
        if writer is None or not rows or planner.report.template_problems:
            return None
        if threads:
            return background.submit(writer.write, rows)
        writer.write(rows)
        return None

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-writer") as background:
        step: Any = None  # the write in progress
        pending: _Rows | None = None  # a shared connection: the page to write once read

        def read(ids: Collection[int]) -> list[Any]:
            nonlocal step
            if shared and step is not None:
                step.result()  # the connection is free again
                step = None
            return planner.contacts_by_id(ids)

        for page in classes.pages(batch_size):
            numbers = classes.suppressed(page)
            # the recipients planned one by one: recent marketing (caps), or suppressed
            flagged = [row[0] for row in page if row[2]]
            alone_rows = planner.contacts_by_id(flagged)
            alone_facts = planner.fetch(alone_rows) if alone_rows else None
            if shared:
                step, pending = write(pending), None
            fast, suppressed = classes.plan(page, numbers, read)
            rows = _Rows(fast=fast)
            if alone_facts is not None:
                rows.sms = planner.compute(alone_rows, alone_facts).sms
            if step is not None:
                step.result()  # one write at a time, in page order; the connection is free
                step = None
            if suppressed:  # on the list: planned one by one, with their facts
                contacts = planner.contacts_by_id(suppressed)
                rows.sms.extend(planner.compute(contacts, planner.fetch(contacts)).sms)
            if shared:
                pending = rows
            else:
                step = write(rows)  # beside the next page's reading and planning
            if progress is not None:
                progress(len(page))
        if pending is not None:
            step = write(pending)
        if step is not None:
            step.result()


def _snapshot_session(session: Session) -> Session | None:
    """A session reading what `session` sees through a connection of its own, or None.

    SQLite in WAL lets a reader run beside the writer, so planning can read the next page
    while the previous one is written. It sees exactly what the planning transaction sees
    only while that transaction has written nothing yet: the transaction holds the write
    lock, so nobody else can commit meanwhile. An in-memory database has one connection.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return None
    if connection.engine.url.database in (None, "", ":memory:"):
        return None
    fairy = connection.connection
    driver = fairy.driver_connection
    if driver is None or fairy.info.get(CHANGES_AT_BEGIN) != driver.total_changes:
        return None  # the transaction wrote: only its own connection sees that
    reader = connection.engine.connect().execution_options(**{SNAPSHOT: True})
    if reader.connection.driver_connection is driver:  # a pool of one connection
        reader.close()
        return None
    return Session(bind=reader)


def _planned_count(session: Session, campaign_id: int) -> int:
    query = select(func.count()).select_from(Message).where(Message.campaign_id == campaign_id)
    return int(session.scalar(query) or 0)


def preview_campaign(
    session: Session,
    *,
    campaign: Campaign,
    settings: Settings,
    now: dt.datetime,
    batch_size: int = 10_000,
    progress: ProgressCallback | None = None,
    prices: PriceTable | None = None,
) -> PlanReport:
    """Everything planning would do, written nowhere."""
    report = _run(
        session,
        campaign=campaign,
        settings=settings,
        now=now,
        write=False,
        batch_size=batch_size,
        progress=progress,
        prices=prices,
    )
    if settings.max_marketing_per_day is not None and campaign.purpose == Purpose.MARKETING:
        report.planned_elsewhere = planned_elsewhere(
            session, campaign=campaign, start=report.start, zone=settings.workspace_timezone
        )
    return report


def planned_elsewhere(
    session: Session, *, campaign: Campaign, start: dt.datetime, zone: str
) -> dict[str, int]:
    """People of the audience with marketing of another campaign planned within a day of
    `start`, by the local day of that message (the preview's warning: the cap will hold
    this campaign back for them). One aggregate query over the audience."""
    audience = select(Contact.id).where(
        compile_filter(parse_filter(campaign.audience_filter), now=start)
    )
    query = (
        select(Message.contact_id, func.min(Message.send_at))
        .where(
            Message.contact_id.in_(audience),
            Message.purpose == Purpose.MARKETING,
            Message.status.in_([str(MessageStatus.PLANNED), str(MessageStatus.QUEUED)]),
            Message.send_at > start - CAP_WINDOW_DAY,
            Message.send_at < start + CAP_WINDOW_DAY,
            Message.campaign_id.is_not(None),
            Message.campaign_id != campaign.id,
        )
        .group_by(Message.contact_id)
    )
    local = ZoneInfo(zone)
    days: Counter[str] = Counter()
    for _contact_id, at in session.execute(query):
        instant = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=dt.UTC)
        days[instant.astimezone(local).date().isoformat()] += 1
    return dict(sorted(days.items()))


CAP_WINDOW_DAY = dt.timedelta(hours=24)


def plan_campaign(
    session: Session,
    *,
    campaign: Campaign,
    settings: Settings,
    now: dt.datetime,
    batch_size: int = 10_000,
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
