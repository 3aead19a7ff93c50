"""Planning by class of recipient: the set-based path of SMS campaigns with plain templates.

What planning writes for a recipient depends on few values. The text depends on the
values the template reads, the country and the language; the decision on the country,
region, zones, consent, customer status, whether there is a number and a usable address,
and (in North America) the area code. Recipients with recent marketing (frequency caps),
on the suppression list, or (on SQLite) with attributes its JSON functions cannot read are
the exceptions: each is planned one by one.

So the page query reads those values, not whole contacts. A recipient whose values were
seen before costs two dictionary lookups. The first recipient of a new class or text is
planned by the per-recipient code (`recipients.RecipientPlanner`), and what it gives is
kept under the values it depends on. The outbox rows are then built by the database from
the page's (contact, class, text) triples (`outbox.writers.FastInsert`): the columns are
bound once per class or text, not once per recipient. The exceptions go through the
per-recipient path as before.

With tracked links, a text is composed once with a placeholder code and each recipient's
codes are put in its place (`linked`); the triples then carry each recipient's own text. A
text whose composition could read a code (`linked.code_independent`) is planned one by one.

Used when `RunContext.by_class` says so: a campaign that sends SMS only, whose template
only reads contact fields and attributes (no Jinja code, no tags).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from textopt.campaigns.audience import compile_filter, parse_filter
from textopt.campaigns.planning.context import RunContext
from textopt.campaigns.planning.linked import (
    LinkedText,
    LinkPage,
    code_independent,
    linked_body,
    linked_text,
)
from textopt.campaigns.planning.recipients import RecipientPlanner
from textopt.campaigns.planning.tally import Composed, Measured, Tally
from textopt.compose.templates import LANGUAGE_KEY
from textopt.consent.service import consent_summary
from textopt.contacts.models import Contact
from textopt.db import utcnow
from textopt.db.batching import keyset_pages
from textopt.eligibility import (
    CAP_WINDOW,
    COUNTED_PLANNED,
    EligibilityBatch,
    number_kind,
    recent_marketing,
)
from textopt.errors import TextoptError
from textopt.links.service import draw_codes, preview_links, stored_instant
from textopt.outbox.writers import ClassRows
from textopt.policy import Decision, Verdict
from textopt.vocab import Channel

__all__ = ["ClassPlanner", "PageRow"]

#: A page row: id, phone, whether to plan it one by one, the class's parts, then the text's (as many
#: as the template reads values, plus country and language): its length varies by campaign.
PageRow = tuple[Any, ...]
#: A class: the page row's values a decision without history depends on (9 of them).
ClassKey = tuple[Any, ...]
#: A text: the page row's values the template reads, then country and language.
TextKey = tuple[Any, ...]
#: Where the parts of a page row start: id, phone, one by one, then the class.
_CLASS_START = 3
_CLASS_PARTS = 9  # country ... area code (see `ClassPlanner._page_query`)
_TEXT_START = _CLASS_START + _CLASS_PARTS
#: How many distinct texts a run keeps in memory (their rows stay in the temporary table).
_MAX_TEXTS = 50_000
_UNREAD = object()
#: A reader of whole contact rows by id (on the reading session of the run).
ContactReader = Callable[[Collection[int]], list[Any]]


@dataclass(slots=True)
class _Class:
    decision: Decision
    country: str | None
    zone: str | None


@dataclass(frozen=True, slots=True)
class _ContextReads:
    """Where a text's key holds what its template context needs, in the order of the
    paths: (position in the key, name) of each field and of each top-level attribute, and
    the position of the whole attributes text when the key holds that instead."""

    fields: tuple[tuple[int, str], ...]
    attributes: tuple[tuple[int, str], ...]
    whole: int | None


def _context_reads(paths: Sequence[tuple[str, ...]]) -> _ContextReads:
    """The `_ContextReads` of a text key made of `paths` (see `_text_keys`)."""
    fields = tuple((i, path[0]) for i, path in enumerate(paths) if path[0] != "attributes")
    attributes = tuple(
        (i, path[1]) for i, path in enumerate(paths) if path[0] == "attributes" and len(path) > 1
    )
    whole = next((i for i, path in enumerate(paths) if path == ("attributes",)), None)
    return _ContextReads(fields, attributes, whole)


def _text_keys(paths: Sequence[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    """What a text depends on: each contact field it reads, and the whole value of each
    top-level attribute it reads. A deeper path is not read on its own: it may go through
    a value that is not an object (`attributes.points.real`), which the database reads as
    missing for everyone while the template gives each recipient their own text."""
    keys = (path[:2] if path[0] == "attributes" else path for path in paths)
    return tuple(dict.fromkeys(keys))


class ClassPlanner:
    """The set-based path of one planning run (see the module's docstring)."""

    def __init__(self, run: RunContext, recipients: RecipientPlanner, tally: Tally) -> None:
        self.run = run
        self.recipients = recipients
        self.tally = tally
        self.state = recipients.channels[Channel.SMS]
        self.paths = _text_keys(run.template.paths or ())
        self.context_reads = _context_reads(self.paths)
        self.wants_attributes = "attributes" in run.template.variables
        self.classes: dict[ClassKey, int] = {}
        self.class_info: list[_Class] = []
        self.texts: dict[TextKey, int] = {}
        # a text's composition, or the message of the template error it gives, by index
        self.text_info: dict[int, Composed | str] = {}
        # what the report counts of it (`Composed[1:6]`), or the same message, by index
        self.text_measures: dict[int, Measured | str] = {}
        self._next_text = 0
        self._values: dict[str, Any] = {}  # attribute values by their JSON text
        # tracked links: each recipient's codes put in their text's composition (`linked`)
        self.link_base = run.link_base
        self.linking = run.link_base is not None and run.write
        self.linked: dict[int, LinkedText] = {}  # by text index
        self.unlinked: set[int] = set()  # texts whose recipients are planned one by one
        self.link_marker = "?"  # the driver's, and the codes' creation instant (`pages`)
        self.link_created_at: Any = None

    # -- reading ------------------------------------------------------------------------

    def _page_query(self, dialect: str) -> Any:
        run = self.run
        since = run.start - CAP_WINDOW
        history = recent_marketing(
            Contact.id,
            since=since,
            counted=COUNTED_PLANNED,
            exclude_campaign_id=run.campaign_id,
        )
        alone: Any = history  # the recipients planned one by one
        readable: Any = None
        reads_attributes = any(path[0] == "attributes" for path in self.paths)
        if reads_attributes and _whole_attributes(dialect):
            # no `->`: the whole attributes text (exact, if fewer recipients share a text)
            self.paths = (*(p for p in self.paths if p[0] != "attributes"), ("attributes",))
            self.context_reads = _context_reads(self.paths)
        elif reads_attributes and dialect == "sqlite":
            # Attributes stored before contacts refused NaN are JSON to Python, malformed
            # to SQLite: their contacts are planned one by one, from the text Python reads.
            readable = func.json_valid(Contact.attributes) == 1
            alone = or_(history, ~readable)
        texts: list[Any] = []
        for path in self.paths:
            if path == ("attributes",):
                texts.append(cast(Contact.attributes, Text))
            elif path[0] == "attributes":
                value = _attribute(dialect, path[1:])
                texts.append(value if readable is None else case((readable, value), else_=None))
            else:
                texts.append(getattr(Contact, path[0]))
        columns = [
            Contact.id,
            Contact.phone,
            alone,
            # the class: what a decision without history depends on (`EligibilityBatch.key_of`)
            Contact.country,
            Contact.region,
            Contact.timezone,
            cast(Contact.timezones, Text),
            consent_summary(Contact.id),
            Contact.is_customer,
            number_kind(),
            or_(Contact.email.is_(None), Contact.email_undeliverable_at.is_not(None)),
            case(
                (func.substr(Contact.phone, 1, 2) == "+1", func.substr(Contact.phone, 1, 5)),
                else_=None,
            ),
            # the text: the values the template reads, then what frames it
            *texts,
            Contact.country,
            Contact.language,
        ]
        condition = compile_filter(parse_filter(run.audience_filter), now=run.start)
        return select(*columns).where(condition)

    def pages(self, session: Session, batch_size: int) -> Iterator[list[PageRow]]:
        """The audience in keyset pages of plain tuples."""
        connection = session.connection()
        if self.linking:
            self.link_marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
            self.link_created_at = stored_instant(connection, utcnow())
        query = self._page_query(connection.dialect.name)
        return keyset_pages(connection, query, Contact.id, batch_size)

    def suppressed(self, session: Session, rows: list[PageRow]) -> set[str] | None:
        """The page's numbers on the suppression list when the list must be queried; None
        when it is held in memory (`plan` checks them)."""
        lookup = self.recipients.suppression(session, Channel.SMS)
        if lookup.empty or lookup.preloaded:
            return None
        phones = [row[1] for row in rows if row[1] and not row[2]]
        return set(lookup.find(session, phones))

    def plan(
        self,
        session: Session,
        rows: list[PageRow],
        suppressed: set[str] | None,
        read: ContactReader,
    ) -> tuple[ClassRows, list[int]]:
        """The page's triples, and its suppressed contacts (and, with tracked links, those
        whose text cannot be composed once) to plan one by one (contacts flagged to be
        planned one by one are left to the caller too).

        `read` gives whole contact rows: it is called only when the page has a class or a
        text not seen before, for the first recipient of each.
        """
        if suppressed is None:
            lookup = self.recipients.suppression(session, Channel.SMS)
            phones = [row[1] for row in rows if row[1] and not row[2]]
            suppressed = set(lookup.find(session, phones)) if not lookup.empty else set()
        if len(self.texts) > _MAX_TEXTS:
            # Texts personal to each recipient rarely repeat: forget them rather than hold
            # one per recipient (a text seen again is composed again, under a new index).
            self.texts.clear()
            self.text_info.clear()
            self.text_measures.clear()
            self.linked.clear()
            self.unlinked.clear()
        out = ClassRows()
        alone: list[int] = []
        missed: list[tuple[int, ClassKey, TextKey]] = []  # contact, class key, text key
        classes, texts = self.classes, self.texts
        triples = out.triples
        append = triples.append
        for row in rows:
            if row[2]:
                continue
            if suppressed and row[1] in suppressed:
                alone.append(row[0])
                continue
            class_key, text_key = row[_CLASS_START:_TEXT_START], row[_TEXT_START:]
            class_index = classes.get(class_key)
            text_index = texts.get(text_key)
            if class_index is None or text_index is None:
                missed.append((row[0], class_key, text_key))
                continue
            append((row[0], class_index, text_index))
        if missed:
            self._learn(missed, read, out)
        if self.linking:
            self._link(out, alone)
        self._count(out.triples)
        return out, alone

    def _link(self, out: ClassRows, alone: list[int]) -> None:
        """Give each recipient of a text with links their codes and their own text (the
        codes are written first, by the writer: `LinkPage`)."""
        linked, unlinked = self.linked, self.unlinked
        kept: list[tuple[Any, ...]] = []
        wanted = 0
        for triple in out.triples:
            text = linked.get(triple[2])
            if text is not None:
                wanted += len(text.urls)
            elif triple[2] in unlinked:
                alone.append(triple[0])
                continue
            kept.append(triple)
        run = self.run
        campaign_id, created_at = run.campaign_id, self.link_created_at
        page = LinkPage(campaign_id, created_at, self.link_marker, self.tally)
        codes = draw_codes(wanted)
        taken = 0
        triples: list[tuple[Any, ...]] = []
        append, add_row, texts = triples.append, page.rows.append, page.texts
        for contact_id, class_index, text_index in kept:
            text = linked.get(text_index)
            if text is None:
                append((contact_id, class_index, text_index, None))
                continue
            texts[text_index] = text
            urls = text.urls
            if len(text.slots) == 1:  # one link: the common case, spelled out
                code = codes[taken]
                taken += 1
                head, tail = text.pieces
                append((contact_id, class_index, text_index, head + code + tail))
                add_row((code, campaign_id, contact_id, urls[0], created_at))
                continue
            mine = codes[taken : taken + len(urls)]
            taken += len(urls)
            append((contact_id, class_index, text_index, text.text(mine)))
            for code, url in zip(mine, urls, strict=True):
                add_row((code, campaign_id, contact_id, url, created_at))
        out.triples = triples
        if page.rows:
            out.before = lambda cursor: page.write(cursor, triples)

    def _learn(
        self, missed: list[tuple[int, ClassKey, TextKey]], read: ContactReader, out: ClassRows
    ) -> None:
        """Plan the first recipient of each new class and text one by one, keep what it
        gives under the values it depends on, then place every missed recipient (contact,
        class key, text key)."""
        classes, texts = self.classes, self.texts
        first: dict[ClassKey, int] = {}
        placed: list[tuple[int, ClassKey, int]] = []  # contact, class key, text index
        for contact_id, key, text_key in missed:
            if key not in classes:
                first.setdefault(key, contact_id)
            text_index = texts.get(text_key)
            if text_index is None:
                text_index = self._learn_text(text_key, out)
            placed.append((contact_id, key, text_index))
        if first:  # a decision needs the whole contact
            whole = {contact.id: contact for contact in read(set(first.values()))}
            for key, contact_id in first.items():
                self._learn_class(key, whole[contact_id], out)
        out.triples.extend((contact_id, classes[key], text) for contact_id, key, text in placed)

    def _learn_class(self, key: ClassKey, contact: Any, out: ClassRows) -> int:
        consents = {contact.id: contact.consents} if contact.consents is not None else {}
        batch = EligibilityBatch(channel=Channel.SMS, consents=consents, suppressed={}, history={})
        decision, columns = self.recipients.decide(self.state, contact, batch)
        index = len(self.class_info)
        self.class_info.append(_Class(decision, contact.country, contact.timezone))
        self.classes[key] = index
        out.classes.append((index, *columns))
        return index

    def _text_context(self, key: TextKey) -> dict[str, Any]:
        """The template context of a text from its key alone: what `context_builder` gives
        for a contact with these values (the template reads nothing else)."""
        reads = self.context_reads
        context: dict[str, Any] = {}
        # a field or an attribute the contact lacks (None) stays absent
        for index, name in reads.fields:
            value = key[index]
            if value is not None:
                context[name] = value
        if self.wants_attributes:
            attributes: dict[str, Any] = {}
            if reads.whole is not None:
                if key[reads.whole] is not None:
                    attributes = self.recipients.attributes(key[reads.whole])
            else:
                for index, name in reads.attributes:
                    value = key[index]
                    if value is not None:
                        attributes[name] = self._value(value) if isinstance(value, str) else value
            context["attributes"] = attributes
        context[LANGUAGE_KEY] = key[-1] or ""
        return context

    def _value(self, text: str) -> Any:
        """An attribute's value from its JSON text, decoded once per distinct text (a
        template that only reads paths never changes it: the value may be shared)."""
        values = self._values
        value = values.get(text, _UNREAD)
        if value is _UNREAD:
            if len(values) > _MAX_TEXTS:
                values.clear()
            value = values[text] = json.loads(text)
        return value

    def _learn_text(self, key: TextKey, out: ClassRows) -> int:
        recipients = self.recipients
        context = self._text_context(key)
        index = self._next_text
        self._next_text += 1
        self.texts[key] = index
        country, language = key[-2] or "ZZ", context[LANGUAGE_KEY]
        try:
            body = self.run.template.render(context)
        except TextoptError as exc:  # a template error
            self.text_info[index] = self.text_measures[index] = exc.message
            return index
        linked = None
        base = self.link_base
        if base is not None:
            if not self.linking:  # a preview: short links of the real length
                body = preview_links(body, base=base)
            elif (linked := linked_body(body, base=base)) is not None:  # URLs checked
                if not code_independent(recipients.frame(country, language), linked, base):
                    self.unlinked.add(index)
                    return index
                body = linked.shaped(base)
        try:
            composed = recipients.compose(body, country, language)
        except TextoptError as exc:  # a text that cannot be sent
            self.text_info[index] = self.text_measures[index] = exc.message
        else:
            if linked is not None:
                cut = linked_text(composed, linked)
                if cut is None:
                    self.unlinked.add(index)
                    return index
                self.linked[index] = cut
            self.text_info[index] = composed
            self.text_measures[index] = composed[1:6]
            text, encoding, segments, cost, currency, _, _ = composed
            assert text is not None  # an SMS's composition has a text and an encoding
            assert encoding is not None
            out.texts.append(
                (index, text, encoding, segments, cost, currency or self.tally.report.currency)
            )
        return index

    def _count(self, triples: Sequence[tuple[Any, ...]]) -> None:
        """The page's share of the report, tallied per distinct (class, text)."""
        tally = self.tally
        report = tally.report
        report.audience += len(triples)
        tally.section(Channel.SMS).audience += len(triples)
        # per class and measure, not per text: texts seen once are as many groups as
        # recipients, their measures are few
        measures = self.text_measures
        groups = Counter((triple[1], measures[triple[2]]) for triple in triples)
        problems = report.template_problems
        text_info, class_info = self.text_info, self.class_info
        longest = -1  # the segments of a message longer than any before, if the page has one
        for (class_index, measured), count in groups.items():
            if isinstance(measured, str):
                problems[measured] += count
                continue
            known = class_info[class_index]
            decision = known.decision
            tally.add(Channel.SMS, decision, known.country, known.zone, measured, count)
            if decision.verdict != Verdict.BLOCK:
                report.reached += count
                longest = max(longest, measured[1])
        # The page's first recipient with the most segments. Pages come in id order; the
        # page's recipients planned one by one come after it and offer themselves too.
        if longest > tally.worst_segments:
            worst = min(
                (
                    triple
                    for triple in triples
                    if not isinstance(composed := text_info[triple[2]], str)
                    and composed[2] == longest
                    and class_info[triple[1]].decision.verdict != Verdict.BLOCK
                ),
                key=lambda triple: triple[0],
            )
            best = text_info[worst[2]]
            assert not isinstance(best, str)
            if len(worst) > 3 and worst[3] is not None:  # a recipient's own text (links)
                best = (worst[3], *best[1:])
            tally.offer_worst(worst[0], best)
        tally.fold()


def _whole_attributes(dialect: str) -> bool:
    """Whether a text's key holds the whole attributes text: a SQLite without `->` has no
    exact way to give one attribute's JSON text (`json_quote(json_extract(…))` writes a
    float with 15 digits, and an integer beyond 64 bits as a float)."""
    return dialect == "sqlite" and sqlite3.sqlite_version_info < (3, 38)


def _attribute(dialect: str, path: tuple[str, ...]) -> Any:
    """An attribute's value as JSON text (equal text, equal value), NULL when the contact
    does not have it: a JSON null and a missing key render differently. The text is the
    stored one (SQLite's `->` copies numbers and strings as written), so Python reads from
    it the value it reads from the whole attributes."""
    if dialect == "sqlite":
        location = literal("$" + "".join(f'."{key}"' for key in path), Text)
        return Contact.attributes.op("->")(location)
    return cast(Contact.attributes[path if len(path) > 1 else path[0]], Text)
