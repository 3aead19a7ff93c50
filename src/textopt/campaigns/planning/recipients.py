"""Planning one recipient at a time: render, compose, decide, and build the outbox rows.

Compositions and decisions are cached on what they depend on, so a campaign whose text
does not vary costs one composition, and recipients with the same facts and the same
recent marketing (`history_key`: the messages of one earlier batch share their instant)
share one decision; the report is tallied once per distinct outcome (`tally.Tally`).

A campaign on two channels decides each recipient's primary channel first. With `both`,
the other channel is decided too, after the primary's planned send when the frequency budget
is shared; with `sms-else-email` or `email-else-sms`, the other channel is decided (with its
own eligibility, read with the batch's) only for recipients the primary cannot reach.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from textopt.campaigns.context import ContextBuilder, context_builder
from textopt.campaigns.emails import FALLBACK_REASONS
from textopt.campaigns.planning.contacts import ATTRIBUTES_AT, CONTACT_ROW
from textopt.campaigns.planning.context import RunContext
from textopt.campaigns.planning.tally import Composed, Measured, Tally
from textopt.compose import MessageFrame, check_segment_limit, message_frame
from textopt.compose.templates import LANGUAGE_KEY
from textopt.consent.suppression import Digester, address_digester
from textopt.contacts.models import ContactTag
from textopt.eligibility import (
    COUNTED_PLANNED,
    EligibilityBatch,
    SuppressionLookup,
    read_eligibility,
    usable_email,
)
from textopt.errors import TemplateError, TextoptError
from textopt.links.service import preview_links, rewrite_links
from textopt.outbox.rows import StoredDecision, decision_columns
from textopt.outbox.writers import PlannedRows
from textopt.policy import Decision, MessageFacts, SendRecord, Verdict, decide, history_key
from textopt.vocab import Channel

__all__ = ["ChannelState", "Fetched", "RecipientPlanner"]

_MICROS = Decimal(1_000_000)
_EMPTY: dict[str, Any] = {}

#: A decision and its outbox columns (stored form), remembered under its key.
Decided = tuple[Decision, StoredDecision]
#: What planning one contact on one channel gave: (verdict, deferred to, reason).
_Outcome = tuple[Verdict, Any, Any]


@dataclass(slots=True)
class ChannelState:
    """One channel of a planning run: its message, account and remembered decisions."""

    channel: Channel
    message: MessageFacts
    provider: str | None
    suppression: SuppressionLookup | None = None
    decisions: dict[Any, Decided] = field(default_factory=dict)


@dataclass(slots=True)
class Fetched:
    """What one batch needs from the database, read before the pure-Python work."""

    tags: dict[int, list[str]]
    bodies: dict[int, str]
    eligibility: dict[Channel, EligibilityBatch]


class RecipientPlanner:
    """The per-recipient planning of one run: caches and the hot loops over contact rows.

    The hot path works on plain rows and tuples: a recipient costs a few dictionary
    lookups when their facts match an earlier recipient's.
    """

    def __init__(self, run: RunContext, tally: Tally) -> None:
        self.run = run
        self.tally = tally
        variables = run.template.variables | (run.email.variables if run.email else set())
        self.needs_tags = "tags" in variables
        self.needs_attributes = "attributes" in variables
        # Decoded attributes are shared between contacts with the same ones, unless a
        # template runs Jinja code (which might change them).
        self.share_attributes = run.template.is_simple and run.email is None
        self.build_context: ContextBuilder = context_builder(
            variables, {name: i for i, name in enumerate(CONTACT_ROW)}
        )
        self.channels = {
            channel: ChannelState(
                channel=channel, message=run.messages[channel], provider=run.providers[channel]
            )
            for channel in run.rule.channels
        }
        for channel in run.rule.channels:
            tally.section(channel)
        self._frames: dict[tuple[str, str], MessageFrame] = {}
        self._composed: dict[tuple[str, str, str], Composed] = {}
        self._costs: dict[tuple[Decimal, int], int] = {}
        self._zones: dict[Any, tuple[str, ...]] = {}
        self._attributes: dict[Any, dict[str, Any]] = {}
        self._created = (0, run.stored_now, run.stored_now)  # attempts, created, updated
        self._digest: Digester | None = None  # the workspace's secret key, read once per run

    # -- caches -------------------------------------------------------------------------

    def frame(self, country: str, language: str) -> MessageFrame:
        """The frame (brand, STOP mention) of a country and language."""
        key = (country, language)
        frame = self._frames.get(key)
        if frame is None:
            frame = message_frame(
                purpose=self.run.purpose,
                country=country,
                brand=self.run.brand,
                stop_number=self.run.settings.stop_number,
                language=language,
            )
            self._frames[key] = frame
        return frame

    def compose(self, body: str, country: str, language: str) -> Composed:
        """(text, encoding, segments, cost, currency, smart-encoding saving, units)."""
        key = (body, country, language)
        found = self._composed.get(key)
        if found is None:
            run = self.run
            frame = self.frame(country, language)
            planned = frame.planned(
                body,
                smart_encoding=run.smart_encoding,
                fold_accents=run.fold_accents,
                prices=run.prices,
            )
            segments = planned.segments
            check_segment_limit(segments, limit=run.settings.max_segments_per_message)
            if len(self._composed) > 50_000:
                self._composed.clear()  # personalised texts rarely repeat: bound the memory
            found = self._composed[key] = (
                planned.text,
                str(planned.encoding),
                segments,
                self._micros(planned.unit_price, segments),
                planned.currency,
                planned.smart_saving,
                planned.units,
            )
        return found

    def _micros(self, unit_price: Decimal, segments: int) -> int:
        """The cost in micros of `segments` at `unit_price` (computed once per pair)."""
        key = (unit_price, segments)
        micros = self._costs.get(key)
        if micros is None:
            micros = self._costs[key] = int(unit_price * segments * _MICROS)
        return micros

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
        state: ChannelState,
        contact: Any,
        batch: EligibilityBatch,
        key: Any = None,
        history: tuple[SendRecord, ...] | None = None,
    ) -> Decided:
        """The decision for one contact on one channel, and its outbox columns.

        With `key`, the answer is remembered for every recipient with that key: the key
        holds the contact's `history` (`history_key`) when it has any. Without `history`,
        the contact's history in `batch` is used.
        """
        run = self.run
        if history is None:
            history = tuple(batch.history.get(contact.id, ()))
        decision = decide(
            batch.contact_facts(contact, self.zones(contact.timezones_json)),
            state.message,
            run.start,
            history,
            run.workspace,
        )
        columns = decision_columns(decision, start=run.start, now=run.now)
        found = (decision, run.instants.decision(columns))
        if key is not None:
            if len(state.decisions) >= 100_000:
                state.decisions.clear()
            state.decisions[key] = found
        return found

    # -- one batch ----------------------------------------------------------------------

    def suppression(self, session: Session, channel: Channel) -> SuppressionLookup:
        """The channel's suppression list for this run (read once when it is short)."""
        state = self.channels[channel]
        if state.suppression is None:
            if self._digest is None:
                self._digest = address_digester(self.run.settings.resolved_secret_key())
            state.suppression = SuppressionLookup(session, channel, digest=self._digest)
        return state.suppression

    def fetch(self, session: Session, contacts: Sequence[Any]) -> Fetched:
        """Everything the batch needs from the database (the only part that reads it).

        With tracked links, `session` also writes the batch's short links.
        """
        run = self.run
        tags: dict[int, list[str]] = {}
        if self.needs_tags:
            ids = [c.id for c in contacts]
            query = select(ContactTag.contact_id, ContactTag.tag).where(
                ContactTag.contact_id.in_(ids)
            )
            for contact_id, tag in session.connection().execute(query):
                tags.setdefault(contact_id, []).append(tag)
        bodies: dict[int, str] = {}
        if run.link_base is not None and Channel.SMS in run.rule.channels:
            bodies = self._linked_bodies(session, contacts, tags)
        # A fallback channel's eligibility is read for the whole batch: the pure-Python part
        # that finds who needs it must not wait for the database.
        consents = {c[0]: c[-1] for c in contacts if c[-1] is not None}  # the last column
        eligibility = {
            channel: read_eligibility(
                session,
                contacts=contacts,
                channel=channel,
                now=run.start,
                counted=COUNTED_PLANNED,
                exclude_campaign_id=run.campaign_id,
                suppression=self.suppression(session, channel),
                consents=consents,
            )
            for channel in self.channels
        }
        return Fetched(tags=tags, bodies=bodies, eligibility=eligibility)

    def compute(self, contacts: Sequence[Any], fetched: Fetched) -> PlannedRows:
        """The batch's outbox rows, and its share of the report (no database work)."""
        run = self.run
        rows = PlannedRows()
        report = self.tally.report
        report.audience += len(contacts)
        tags, build = fetched.tags, self.build_context
        if self.needs_attributes:
            attributes = self.attributes
            contexts = [
                build(c, attributes(c[ATTRIBUTES_AT]), tags.get(c[0], ())) for c in contacts
            ]
        elif tags:
            contexts = [build(c, _EMPTY, tags.get(c[0], ())) for c in contacts]
        else:
            contexts = [build(c, _EMPTY, ()) for c in contacts]
        primary, second = run.primary, run.second
        first = self.plan_channel(primary, contacts, contexts, fetched, rows)
        if second is None:
            report.reached += sum(o is not None and o[0] != Verdict.BLOCK for o in first)
        elif not run.rule.is_fallback:  # both channels
            planned = [i for i, o in enumerate(first) if o is not None]
            extras: dict[int, tuple[SendRecord, ...]] = {}
            if run.shared_caps:
                for i in planned:
                    verdict, at, _ = first[i]  # type: ignore[misc]
                    if verdict != Verdict.BLOCK:
                        record = SendRecord(at=at or run.start, channel=primary)
                        extras[contacts[i].id] = (record,)
            other = self.plan_channel(
                second,
                [contacts[i] for i in planned],
                [contexts[i] for i in planned],
                fetched,
                rows,
                extras,
            )
            for i, outcome in zip(planned, other, strict=True):
                first_outcome = first[i]
                report.reached += (
                    first_outcome is not None and first_outcome[0] != Verdict.BLOCK
                ) or (outcome is not None and outcome[0] != Verdict.BLOCK)
        else:  # the second channel for those the first cannot reach
            report.reached += sum(o is not None and o[0] != Verdict.BLOCK for o in first)
            wanted = [
                i
                for i, o in enumerate(first)
                if o is not None and o[0] == Verdict.BLOCK and o[2] in FALLBACK_REASONS
            ]
            other = self.plan_channel(
                second,
                [contacts[i] for i in wanted],
                [contexts[i] for i in wanted],
                fetched,
                rows,
            )
            report.reached += sum(o is not None and o[0] != Verdict.BLOCK for o in other)
        self.tally.fold()
        return rows

    def _linked_bodies(
        self, session: Session, contacts: Sequence[Any], tags: dict[int, list[str]]
    ) -> dict[int, str]:
        """The batch's SMS texts with their URLs shortened per recipient (bulk)."""
        run = self.run
        assert run.link_base is not None
        texts: list[tuple[int, str]] = []
        for contact in contacts:
            attributes = self.attributes(contact.attributes_json) if self.needs_attributes else {}
            context = self.build_context(contact, attributes, tags.get(contact.id, ()))
            try:
                texts.append((contact.id, run.template.render(context)))
            except TemplateError:
                continue  # counted when the contact is planned
        if run.write:
            bodies = rewrite_links(
                session, texts=texts, campaign_id=run.campaign_id, base=run.link_base
            )
        else:
            bodies = [preview_links(text, base=run.link_base) for _, text in texts]
        return {contact_id: body for (contact_id, _), body in zip(texts, bodies, strict=True)}

    def plan_channel(
        self,
        channel: Channel,
        contacts: Sequence[Any],
        contexts: Sequence[dict[str, Any]],
        fetched: Fetched,
        rows: PlannedRows,
        extras: dict[int, tuple[SendRecord, ...]] | None = None,
    ) -> list[_Outcome | None]:
        """Plan contacts on one channel: per contact (verdict, deferred to, reason), or
        None for a template problem."""
        state = self.channels[channel]
        self.tally.section(channel).audience += len(contacts)
        batch = fetched.eligibility[channel]
        if channel == Channel.EMAIL:
            return self.plan_email(state, contacts, contexts, batch, rows, extras)
        return self.plan_sms(state, contacts, contexts, batch, fetched.bodies, rows, extras)

    def plan_sms(
        self,
        state: ChannelState,
        contacts: Sequence[Any],
        contexts: Sequence[dict[str, Any]],
        batch: EligibilityBatch,
        bodies: dict[int, str],
        rows: PlannedRows,
        extras: dict[int, tuple[SendRecord, ...]] | None,
    ) -> list[_Outcome | None]:
        """The SMS rows of a batch: the hot loop of planning."""
        run, tally = self.run, self.tally
        report = tally.report
        problems = report.template_problems
        outcomes: list[_Outcome | None] = []
        append_outcome, append_row = outcomes.append, rows.sms.append
        render, composed_cache, compose = run.template.render, self._composed, self.compose
        history, decisions, decide_one = batch.history, state.decisions, self.decide
        counts, alive = tally.counts, tally.alive
        campaign_id, purpose, sender = run.campaign_id, run.purpose.value, run.sender
        expires, starts, provider = run.stored_expires, run.stored_start, state.provider
        attempts, created, updated = self._created
        key_prefix = run.idempotency_prefix
        fallback_currency = report.currency
        key_of = batch.key_of
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
            key: Any = key_of(
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
                found = decide_one(state, contact, batch, key, records)
            decision, (pack, status, reason, reason_text, deferred, send_at, done_at) = found
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
                    pack,
                    status,
                    reason,
                    reason_text,
                    deferred,
                    send_at,
                    done_at,
                    expires,
                    starts,
                    provider,
                    key_prefix + str(contact_id),
                    attempts,
                    created,
                    updated,
                )
            )
            alive[id(decision)] = decision
            counts[(Channel.SMS, id(decision), country, zone, composed[1:6])] += 1
            verdict = decision.verdict
            if verdict != Verdict.BLOCK and (
                segments > tally.worst_segments
                or (segments == tally.worst_segments and contact_id < tally.worst_contact)
            ):
                tally.offer_worst(contact_id, composed)
            append_outcome((verdict, decision.at, decision.reason))
        return outcomes

    def plan_email(
        self,
        state: ChannelState,
        contacts: Sequence[Any],
        contexts: Sequence[dict[str, Any]],
        batch: EligibilityBatch,
        rows: PlannedRows,
        extras: dict[int, tuple[SendRecord, ...]] | None,
    ) -> list[_Outcome | None]:
        """The email rows of a batch (each rendered with the recipient's own links)."""
        run, tally = self.run, self.tally
        email = run.email
        assert email is not None
        report = tally.report
        outcomes: list[_Outcome | None] = []
        cost = email.cost_micros
        # encoding, segments (the token bucket counts one per email), cost, currency, saving
        measured: Measured = (None, 1, cost, report.currency, 0)
        attempts, created, updated = self._created
        for contact, context in zip(contacts, contexts, strict=True):
            try:
                rendered, headers = email.render(contact.id, context)
            except TextoptError as exc:
                report.template_problems[exc.message] += 1
                outcomes.append(None)
                continue
            extra = extras.get(contact.id, ()) if extras else ()
            raw_zones = contact.timezones_json
            key: Any = batch.decision_key(
                contact, raw_zones if type(raw_zones) is str else tuple(raw_zones or ())
            )
            records = None
            if extra or contact.id in batch.history:
                records = history_key(batch.history.get(contact.id, ()), extra)
                key = (key, records)
            found = state.decisions.get(key) or self.decide(state, contact, batch, key, records)
            decision, (pack, status, reason, reason_text, deferred, send_at, done_at) = found
            blocked = decision.verdict == Verdict.BLOCK
            rows.email.append(
                (
                    run.campaign_id,
                    contact.id,
                    "email",
                    run.purpose.value,
                    usable_email(contact) or contact.email,
                    None,
                    None if blocked else rendered.text,  # never sent: the reason is enough
                    None,
                    1,
                    cost,
                    report.currency,
                    contact.country,
                    pack,
                    status,
                    reason,
                    reason_text,
                    deferred,
                    send_at,
                    done_at,
                    run.stored_expires,
                    run.stored_start,
                    state.provider,
                    f"{run.idempotency_prefix}{contact.id}-email",
                    attempts,
                    created,
                    updated,
                    rendered.subject,
                    None if blocked else rendered.html,
                    None if blocked or not headers else json.dumps(headers),
                )
            )
            tally.add(Channel.EMAIL, decision, contact.country, contact.timezone, measured, 1)
            outcomes.append((decision.verdict, decision.at, decision.reason))
        return outcomes
