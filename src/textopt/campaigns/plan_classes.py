"""Planning by class of recipient: the set-based path of SMS campaigns with plain templates.

What planning writes for a recipient depends on few values. The text depends on the
values the template reads, the country and the language; the decision on the country,
region, zones, consent, customer status, whether there is a number and a usable address,
and (in North America) the area code. Recipients with recent marketing (frequency caps) or
on the suppression list are the exceptions: each gets a decision of their own.

So the page query reads those values, not whole contacts. A recipient whose values were
seen before costs two dictionary lookups. The first recipient of a new class or text is
planned by the per-recipient code (`_Planner`), and what it gives is kept under the values
it depends on. The outbox rows are then built by the database: `INSERT … SELECT` joins the
page's (contact, class, text) triples with two temporary tables holding each class's
decision columns and each text's composition, so the columns are bound once per class or
text, not once per recipient. The exceptions go through the per-recipient path as before.

Used when a campaign sends SMS only, its template only reads contact fields and
attributes (no Jinja code, no tags), and it tracks no links.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, case, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from textopt.campaigns.audience import compile_filter, parse_filter
from textopt.campaigns.context import CONTEXT_FIELDS
from textopt.compose.templates import LANGUAGE_KEY
from textopt.consent.service import consent_summary
from textopt.contacts.models import Contact
from textopt.db.batching import keyset_pages
from textopt.eligibility import (
    CAP_WINDOW,
    COUNTED_PLANNED,
    EligibilityBatch,
    number_kind,
    recent_marketing,
)
from textopt.errors import TextoptError
from textopt.policy import Decision, Verdict
from textopt.vocab import Channel

if TYPE_CHECKING:
    from textopt.campaigns.planning import _Planner

__all__ = ["ClassPlanner", "FastInsert", "FastRows"]

#: Where the parts of a page row start: id, phone, recent marketing, then the class.
_CLASS_START = 3
_CLASS_PARTS = 9  # country ... area code (see `ClassPlanner._page_query`)
_TEXT_START = _CLASS_START + _CLASS_PARTS

CLASSES_TABLE = "textopt_plan_classes"
TEXTS_TABLE = "textopt_plan_texts"
_CLASS_COLUMNS = ("pack", "status", "reason", "reason_text", "deferred", "send_at")
_TEXT_COLUMNS = ("body", "encoding", "segments", "cost_micros", "currency")
#: How many distinct texts a run keeps in memory (their rows stay in the temporary table).
_MAX_TEXTS = 50_000


@dataclass(slots=True)
class FastRows:
    """What one page adds to the outbox on the set-based path."""

    classes: list[tuple[Any, ...]] = field(default_factory=list)  # new: (index, columns...)
    texts: list[tuple[Any, ...]] = field(default_factory=list)  # new: (index, columns...)
    triples: list[tuple[int, int, int]] = field(default_factory=list)  # contact, class, text

    def __bool__(self) -> bool:
        return bool(self.triples or self.classes or self.texts)


@dataclass(slots=True)
class _Class:
    decision: Decision
    country: str | None
    zone: str | None


def _text_keys(paths: Sequence[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    """What a text depends on: each contact field it reads, and the whole value of each
    top-level attribute it reads. A deeper path is not read on its own: it may go through
    a value that is not an object (`attributes.points.real`), which the database reads as
    missing for everyone while the template gives each recipient their own text."""
    keys = (path[:2] if path[0] == "attributes" else path for path in paths)
    return tuple(dict.fromkeys(keys))


class ClassPlanner:
    """The set-based path of one planning run (see the module's docstring)."""

    @staticmethod
    def applies(planner: _Planner) -> bool:
        """Whether `planner`'s campaign can be planned by class of recipient."""
        paths = planner.template.paths
        return (
            planner.rule.channels == (Channel.SMS,)
            and planner.link_base is None
            and paths is not None
            and all(
                (len(p) == 1 and p[0] in CONTEXT_FIELDS) or (len(p) > 1 and p[0] == "attributes")
                for p in paths
            )
        )

    def __init__(self, planner: _Planner) -> None:
        self.planner = planner
        self.session: Session = planner.session
        self.state = planner.channels[Channel.SMS]
        self.paths = _text_keys(planner.template.paths or ())
        self.classes: dict[tuple[Any, ...], int] = {}
        self.class_info: list[_Class] = []
        self.texts: dict[tuple[Any, ...], int] = {}
        # a text's composition (text, encoding, segments, cost, currency, saving, units), or
        # the message of the template error it gives, by index
        self.text_info: dict[int, tuple[Any, ...] | str] = {}
        self._next_text = 0
        self.dialect = self.session.get_bind().dialect.name

    # -- reading ------------------------------------------------------------------------

    def _page_query(self) -> Any:
        planner = self.planner
        since = planner.start - CAP_WINDOW
        history = recent_marketing(
            Contact.id,
            since=since,
            counted=COUNTED_PLANNED,
            exclude_campaign_id=planner.campaign_id,
        )
        texts = []
        for path in self.paths:
            if path[0] == "attributes":
                texts.append(self._attribute(path[1:]))
            else:
                texts.append(getattr(Contact, path[0]))
        columns = [
            Contact.id,
            Contact.phone,
            history,
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
        condition = compile_filter(
            parse_filter(planner.campaign.audience_filter), now=planner.start
        )
        return select(*columns).where(condition)

    def _attribute(self, path: tuple[str, ...]) -> Any:
        """An attribute's value as JSON text (equal text, equal value), NULL when the
        contact does not have it: a JSON null and a missing key render differently."""
        if self.dialect == "sqlite":
            # JSON_QUOTE(JSON_EXTRACT(…)) gives "null" for both; `->` keeps them apart
            location = literal("$" + "".join(f'."{key}"' for key in path), Text)
            if sqlite3.sqlite_version_info >= (3, 38):
                return Contact.attributes.op("->")(location)
            value = func.json_quote(func.json_extract(Contact.attributes, location))
            return case((func.json_type(Contact.attributes, location).is_(None), None), else_=value)
        return cast(Contact.attributes[path if len(path) > 1 else path[0]], Text)

    def pages(self, batch_size: int) -> Iterator[list[tuple[Any, ...]]]:
        """The audience in keyset pages of plain tuples."""
        connection = self.session.connection()
        return keyset_pages(connection, self._page_query(), Contact.id, batch_size)

    def suppressed(self, rows: list[tuple[Any, ...]]) -> set[str] | None:
        """The page's numbers on the suppression list when the list must be queried; None
        when it is held in memory (`plan` checks them)."""
        lookup = self.planner.suppression(Channel.SMS)
        if lookup.empty or lookup.preloaded:
            return None
        phones = [row[1] for row in rows if row[1] and not row[2]]
        return set(lookup.find(self.session, phones))

    def plan(
        self,
        rows: list[tuple[Any, ...]],
        suppressed: set[str] | None,
        read: Callable[[Collection[int]], list[Any]],
    ) -> tuple[FastRows, list[int]]:
        """The page's triples, and its suppressed contacts to plan one by one (contacts
        with recent marketing are left to the caller too).

        `read` gives whole contact rows: it is called only when the page has a class or a
        text not seen before, for the first recipient of each.
        """
        planner = self.planner
        if suppressed is None:
            lookup = planner.suppression(Channel.SMS)
            phones = [row[1] for row in rows if row[1] and not row[2]]
            suppressed = set(lookup.find(self.session, phones)) if not lookup.empty else set()
        if len(self.texts) > _MAX_TEXTS:
            # Texts personal to each recipient rarely repeat: forget them rather than hold
            # one per recipient (a text seen again is composed again, under a new index).
            self.texts.clear()
            self.text_info.clear()
        out = FastRows()
        alone: list[int] = []
        missed: list[tuple[Any, ...]] = []
        classes, texts = self.classes, self.texts
        triples = out.triples
        append = triples.append
        for row in rows:
            if row[2]:
                continue
            if suppressed and row[1] in suppressed:
                alone.append(row[0])
                continue
            class_index = classes.get(row[_CLASS_START:_TEXT_START])
            text_index = texts.get(row[_TEXT_START:])
            if class_index is None or text_index is None:
                missed.append(row)
                continue
            append((row[0], class_index, text_index))
        if missed:
            self._learn(missed, read, out)
        self._count(triples)
        return out, alone

    def _learn(
        self,
        missed: list[tuple[Any, ...]],
        read: Callable[[Collection[int]], list[Any]],
        out: FastRows,
    ) -> None:
        """Plan the first recipient of each new class and text one by one, keep what it
        gives under the values it depends on, then place every missed recipient."""
        classes, texts = self.classes, self.texts
        first: dict[tuple[Any, ...], int] = {}
        for row in missed:
            key = row[_CLASS_START:_TEXT_START]
            if key not in classes:
                first.setdefault(key, row[0])
            key = row[_TEXT_START:]
            if key not in texts:
                first.setdefault(("text", *key), row[0])
        whole = {contact.id: contact for contact in read(set(first.values()))}
        for key, contact_id in first.items():
            if key[0] == "text":
                self._learn_text(key[1:], whole[contact_id], out)
            else:
                self._learn_class(key, whole[contact_id], out)
        out.triples.extend(
            (row[0], classes[row[_CLASS_START:_TEXT_START]], texts[row[_TEXT_START:]])
            for row in missed
        )

    def _learn_class(self, key: tuple[Any, ...], contact: Any, out: FastRows) -> int:
        planner = self.planner
        consents = {contact.id: contact.consents} if contact.consents is not None else {}
        facts = EligibilityBatch(channel=Channel.SMS, consents=consents, suppressed={}, history={})
        decision, columns = planner.decide(self.state, contact, facts)
        index = len(self.class_info)
        self.class_info.append(_Class(decision, contact.country, contact.timezone))
        self.classes[key] = index
        out.classes.append((index, *columns))
        return index

    def _learn_text(self, key: tuple[Any, ...], contact: Any, out: FastRows) -> int:
        planner = self.planner
        attributes = planner.attributes(contact.attributes_json) if planner.needs_attributes else {}
        context = planner.build_context(contact, attributes, ())
        index = self._next_text
        self._next_text += 1
        try:
            body = planner.template.render(context)
            composed = planner.compose(body, contact.country or "ZZ", context[LANGUAGE_KEY])
        except TextoptError as exc:  # a template error, or a text that cannot be sent
            self.text_info[index] = exc.message
        else:
            self.text_info[index] = composed
            text, encoding, segments, cost, currency, _, _ = composed
            out.texts.append(
                (index, text, encoding, segments, cost, currency or planner.report.currency)
            )
        self.texts[key] = index
        return index

    def _count(self, triples: Sequence[tuple[int, int, int]]) -> None:
        """The page's share of the report, tallied per distinct (class, text)."""
        planner = self.planner
        report = planner.report
        report.audience += len(triples)
        self.state.section.audience += len(triples)
        groups = Counter((c, t) for _, c, t in triples)
        problems = report.template_problems
        text_info, class_info = self.text_info, self.class_info
        longest = -1  # the segments of a message longer than any before, if the page has one
        for (class_index, text_index), count in groups.items():
            composed = text_info[text_index]
            if isinstance(composed, str):
                problems[composed] += count
                continue
            known = class_info[class_index]
            decision = known.decision
            planner.tally(Channel.SMS, decision, known.country, known.zone, composed, count)
            if decision.verdict != Verdict.BLOCK:
                report.reached += count
                longest = max(longest, composed[2])
        if longest > planner.worst_segments:  # the page's first recipient with the most
            contact_id, text_index = min(
                (contact_id, text_index)
                for contact_id, class_index, text_index in triples
                if not isinstance(composed := text_info[text_index], str)
                and composed[2] == longest
                and class_info[class_index].decision.verdict != Verdict.BLOCK
            )
            best = text_info[text_index]
            assert not isinstance(best, str)
            planner.set_worst(contact_id, best)
        planner.fold_tally()

    # -- writing ------------------------------------------------------------------------

    def create_tables(self, connection: Any) -> None:
        """The two temporary tables the page inserts join (dropped by `drop_tables`)."""
        self.drop_tables(connection)
        if self.dialect == "postgresql":
            connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {CLASSES_TABLE} (idx integer PRIMARY KEY, pack text, "
                "status text, reason text, reason_text text, deferred boolean, "
                "send_at timestamptz) ON COMMIT DROP"
            )
            connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {TEXTS_TABLE} (idx integer PRIMARY KEY, body text, "
                "encoding text, segments integer, cost_micros bigint, currency text) "
                "ON COMMIT DROP"
            )
            return
        for table, columns in ((CLASSES_TABLE, _CLASS_COLUMNS), (TEXTS_TABLE, _TEXT_COLUMNS)):
            connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {table} (idx INTEGER PRIMARY KEY, {', '.join(columns)})"
            )

    def drop_tables(self, connection: Any) -> None:
        for table in (CLASSES_TABLE, TEXTS_TABLE):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")


class FastInsert:
    """The statements that write a page's triples (run by the outbox writer's thread)."""

    def __init__(self, planner: _Planner, *, marker: str, multirow_limit: int) -> None:
        self.postgres = marker == "%s"
        self.marker = marker
        state = planner.channels[Channel.SMS]
        expires, starts = planner._instants(planner.expires), planner._instants(planner.start)
        attempts, created, updated = planner._created
        # the values every row shares, in the order of their markers in the SELECT list
        self.constants = (
            planner.campaign_id,
            Channel.SMS.value,
            planner.purpose.value,
            planner.sender,
            expires,
            starts,
            state.provider,
            f"c{planner.campaign_id}-",
            attempts,
            created,
            updated,
        )
        # SQLite: as many triples per statement as its parameter limit allows
        self.chunk = max((multirow_limit - len(self.constants)) // 3, 1)
        self._sql: dict[int, str] = {}

    def _statement(self, count: int) -> str:
        sql = self._sql.get(count)
        if sql is not None:
            return sql
        m = self.marker
        select_list = (
            f"{m}, v.contact_id, {m}, {m}, c.phone, {m}, t.body, t.encoding, t.segments, "
            f"t.cost_micros, t.currency, c.country, k.pack, k.status, k.reason, "
            f"k.reason_text, k.deferred, k.send_at, {m}, {m}, {m}, "
            f"{m} || CAST(c.id AS TEXT), {m}, {m}, {m}"
        )
        joins = (
            f"JOIN contacts c ON c.id = v.contact_id "
            f"JOIN {CLASSES_TABLE} k ON k.idx = v.class_idx "
            f"JOIN {TEXTS_TABLE} t ON t.idx = v.text_idx"
        )
        columns = (
            "campaign_id, contact_id, channel, purpose, recipient, sender, body, encoding, "
            "segments, cost_micros, currency, country, pack, status, reason, reason_text, "
            "deferred, send_at, expires_at, decided_at, provider, idempotency_key, attempts, "
            "created_at, updated_at"
        )
        conflict = "ON CONFLICT (campaign_id, contact_id, channel) DO NOTHING"
        if self.postgres:
            sql = (
                f"INSERT INTO messages ({columns}) SELECT {select_list} "
                f"FROM unnest({m}::bigint[], {m}::integer[], {m}::integer[]) "
                f"AS v(contact_id, class_idx, text_idx) {joins} {conflict}"
            )
        else:
            values = ", ".join([f"({m}, {m}, {m})"] * count)
            sql = (
                f"WITH v(contact_id, class_idx, text_idx) AS (VALUES {values}) "
                f"INSERT INTO messages ({columns}) SELECT {select_list} "
                f"FROM v {joins} WHERE true {conflict}"
            )
        self._sql[count] = sql
        return sql

    def _parameters(self, values: list[Any]) -> list[Any]:
        # SQLite: the VALUES come first (in the WITH clause); PostgreSQL: the arrays last
        if self.postgres:
            return [*self.constants, *values]
        return [*values, *self.constants]

    def write(self, cursor: Any, rows: FastRows) -> None:
        """Insert the page's new classes and texts, then its triples."""
        m = self.marker
        if rows.classes:
            marks = ", ".join([m] * (1 + len(_CLASS_COLUMNS)))
            cursor.executemany(f"INSERT INTO {CLASSES_TABLE} VALUES ({marks})", rows.classes)
        if rows.texts:
            marks = ", ".join([m] * (1 + len(_TEXT_COLUMNS)))
            cursor.executemany(f"INSERT INTO {TEXTS_TABLE} VALUES ({marks})", rows.texts)
        triples = rows.triples
        if not triples:
            return
        if self.postgres:
            ids, classes, texts = (list(column) for column in zip(*triples, strict=True))
            cursor.execute(self._statement(0), self._parameters([ids, classes, texts]))
            return
        for begin in range(0, len(triples), self.chunk):
            chunk = triples[begin : begin + self.chunk]
            values = [value for triple in chunk for value in triple]
            cursor.execute(self._statement(len(chunk)), self._parameters(values))
