"""Consent services: append to the ledger, read the current state, verify the chain.

Every change of consent goes through `append_events`, the one writer of the ledger: it
takes the ledger head's row lock (so concurrent writers on PostgreSQL queue up instead of
forking the chain), chains and inserts the events in bulk, stores their proofs and updates
the derived `consent_state` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from textopt.consent.derive import (
    StateDifference,
    check_states,
    repair_states,
    states_for,
    supported_state,
    suppress_stops,
)
from textopt.consent.ledger import GENESIS_HASH, event_hash, proof_digest
from textopt.consent.models import (
    ConsentAction,
    ConsentEvent,
    ConsentProof,
    ConsentSource,
    ConsentState,
    ConsentText,
    LedgerHead,
)
from textopt.consent.suppression import (
    Digester,
    lift_suppression,
    suppress,
    suppressed_contacts,
    suppressed_phones,
    suppression_reasons,
)
from textopt.contacts.models import Contact
from textopt.db.base import utcnow
from textopt.db.batching import id_conditions
from textopt.db.engine import upsert_insert
from textopt.errors import ConsentError, NotFoundError, ValidationError
from textopt.instants import check_happened
from textopt.vocab import Channel, Purpose
from textopt.webhooks.models import WebhookEvent
from textopt.webhooks.service import emit_events

__all__ = [
    "LedgerReport",
    "NewConsentEvent",
    "add_consent_text",
    "append_events",
    "consent_rows_bulk",
    "consent_summary",
    "current_consent",
    "current_consent_bulk",
    "get_consent_text",
    "history",
    "lift_suppression",
    "list_consent_texts",
    "parse_consent_summary",
    "rebuild_state",
    "record_consent",
    "suppress",
    "suppressed_phones",
    "suppression_reasons",
    "verify_ledger",
]

_HEAD_ID = 1
_VERSION = re.compile(r"[A-Za-z0-9._-]{1,64}")
_EVENTS = cast(Table, ConsentEvent.__table__)
_PROOFS = cast(Table, ConsentProof.__table__)
_GRANTING = (ConsentAction.REQUESTED, ConsentAction.GRANTED, ConsentAction.CONFIRMED)
# Sources where the person acts themselves: they may opt in again after a STOP.
_SELF_SERVICE = (ConsentSource.FORM, ConsentSource.KEYWORD)


@dataclass(frozen=True, slots=True)
class NewConsentEvent:
    """An event to append: who, which channel and purpose, what, how, when, and the proof."""

    contact_id: int
    channel: Channel | str
    purpose: Purpose | str
    action: ConsentAction | str
    source: ConsentSource | str
    occurred_at: dt.datetime
    consent_text_version: str | None = None
    proof: Mapping[str, Any] | None = None


@dataclass(slots=True)
class LedgerReport:
    """What `verify_ledger` found."""

    ok: bool = True
    events_checked: int = 0
    proofs_checked: int = 0
    proofs_erased: int = 0
    first_broken_id: int | None = None
    problem: str | None = None
    problems: list[str] = field(default_factory=list)
    states_checked: int = 0
    differences: list[StateDifference] = field(default_factory=list)


def _validate(event: NewConsentEvent, *, recorded_at: dt.datetime) -> None:
    try:
        Channel(event.channel)
        Purpose(event.purpose)
        ConsentAction(event.action)
        ConsentSource(event.source)
    except ValueError as exc:
        raise ValidationError(f"consent event for contact {event.contact_id}: {exc}") from exc
    # A consent is recorded once it has happened: a grant stamped in the future would
    # otherwise outrank every later revocation by its time (see `derive_state`).
    check_happened(event.occurred_at, now=recorded_at, field="occurred_at")


def _lock_head(session: Session) -> LedgerHead:
    """The ledger head, created on first use and locked until the transaction ends."""
    query = select(LedgerHead).where(LedgerHead.id == _HEAD_ID).with_for_update()
    head = session.scalars(query).one_or_none()
    if head is None:
        session.execute(
            upsert_insert(session, LedgerHead)
            .values(id=_HEAD_ID, last_event_id=0, last_hash=GENESIS_HASH)
            .on_conflict_do_nothing()
        )
        head = session.scalars(query.execution_options(populate_existing=True)).one()
    return head


def _refuse_suppressed(
    session: Session, events: Sequence[NewConsentEvent], digest: Digester
) -> None:
    """Suppression wins: no marketing grant for a suppressed number or address."""
    grants = [e for e in events if e.action in _GRANTING and e.purpose == Purpose.MARKETING]
    for channel in {str(e.channel) for e in grants}:
        ids = {e.contact_id for e in grants if e.channel == channel}
        blocked = suppressed_contacts(session, digest=digest, contact_ids=ids, channel=channel)
        for event in grants:
            reasons = blocked.get(event.contact_id)
            if event.channel != channel or not reasons:
                continue
            if set(reasons) == {"keyword"} and event.source in _SELF_SERVICE:
                continue  # the person opts in again themselves; the caller lifts the STOP
            raise ConsentError(
                f"contact {event.contact_id} is on the {channel} suppression list "
                f"({', '.join(sorted(reasons))}): marketing consent cannot be recorded"
            )


def append_events(
    session: Session,
    *,
    digest: Digester,
    events: Sequence[NewConsentEvent],
    now: dt.datetime | None = None,
) -> list[int]:
    """Chain and insert `events` in bulk, store their proofs, update the current state.

    Returns the new events' ids (their chain positions), in order.
    """
    if not events:
        return []
    recorded_at = now or utcnow()
    for event in events:
        _validate(event, recorded_at=recorded_at)
    _refuse_suppressed(session, events, digest)
    head = _lock_head(session)
    prev_hash, next_id = head.last_hash, head.last_event_id + 1
    rows: list[dict[str, Any]] = []
    proofs: list[dict[str, Any]] = []
    for offset, event in enumerate(events):
        event_id = next_id + offset
        proof_hash = None
        if event.proof:
            salt = secrets.token_hex(16)
            data = dict(event.proof)
            proof_hash = proof_digest(salt=salt, data=data)
            proofs.append({"event_id": event_id, "salt": salt, "data": data})
        channel, purpose = str(event.channel), str(event.purpose)
        action, source = str(event.action), str(event.source)
        this_hash = event_hash(
            event_id=event_id,
            contact_id=event.contact_id,
            channel=channel,
            purpose=purpose,
            action=action,
            source=source,
            occurred_at=event.occurred_at,
            recorded_at=recorded_at,
            consent_text_version=event.consent_text_version,
            proof_digest=proof_hash,
            prev_hash=prev_hash,
        )
        row = {
            "id": event_id,
            "contact_id": event.contact_id,
            "channel": channel,
            "purpose": purpose,
            "action": action,
            "source": source,
            "occurred_at": event.occurred_at,
            "recorded_at": recorded_at,
            "consent_text_version": event.consent_text_version,
            "proof_digest": proof_hash,
            "prev_hash": prev_hash,
            "hash": this_hash,
        }
        prev_hash = this_hash
        rows.append(row)
    # Core inserts on the tables: an import appends thousands of events per batch and needs
    # none of them back as objects.
    session.execute(insert(_EVENTS), rows)
    if proofs:
        session.execute(insert(_PROOFS), proofs)
    head.last_event_id = rows[-1]["id"]
    head.last_hash = rows[-1]["hash"]
    _upsert_states(session, rows)
    suppress_stops(session, digest=digest, rows=rows)
    emit_events(
        session,
        events=[
            (
                WebhookEvent.OPT_OUT,
                {
                    "contact_id": row["contact_id"],
                    "channel": row["channel"],
                    "purpose": row["purpose"],
                    "source": row["source"],
                    "occurred_at": row["occurred_at"].isoformat(),
                    "ledger_event": row["id"],
                },
            )
            for row in rows
            if row["action"] == ConsentAction.REVOKED
        ],
        now=recorded_at,
    )
    session.flush()
    return [r["id"] for r in rows]


def _upsert_states(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write the state of each key the new events touch, derived from its whole ledger."""
    values = states_for(session, rows=rows)
    if not values:
        return
    statement = upsert_insert(session, ConsentState)
    statement = statement.on_conflict_do_update(
        index_elements=["contact_id", "channel", "purpose"],
        set_={
            "status": statement.excluded.status,
            "source": statement.excluded.source,
            "since": statement.excluded.since,
            "event_id": statement.excluded.event_id,
            "frequency": statement.excluded.frequency,
        },
    )
    session.execute(statement, values)


def record_consent(
    session: Session,
    *,
    digest: Digester,
    contact_id: int,
    channel: Channel | str,
    purpose: Purpose | str,
    action: ConsentAction | str,
    source: ConsentSource | str,
    occurred_at: dt.datetime | None = None,
    consent_text_version: str | None = None,
    proof: Mapping[str, Any] | None = None,
) -> ConsentEvent:
    """Append one consent event for one contact (a grant, a confirmation or a revocation)."""
    if session.get(Contact, contact_id) is None:
        raise NotFoundError(f"no contact with id {contact_id}")
    if consent_text_version and get_consent_text(session, version=consent_text_version) is None:
        raise ValidationError(
            f"consent text version {consent_text_version!r} is not registered "
            "(add it with `textopt consent texts add`)",
            field="consent_text_version",
        )
    event = NewConsentEvent(
        contact_id=contact_id,
        channel=channel,
        purpose=purpose,
        action=action,
        source=source,
        occurred_at=occurred_at or utcnow(),
        consent_text_version=consent_text_version,
        proof=proof,
    )
    (event_id,) = append_events(session, digest=digest, events=[event])
    return session.get_one(ConsentEvent, event_id)


def history(session: Session, *, contact_id: int) -> list[tuple[ConsentEvent, ConsentProof | None]]:
    """Every ledger event of a contact in chain order, with its proof if not erased."""
    query = (
        select(ConsentEvent, ConsentProof)
        .outerjoin(ConsentProof, ConsentProof.event_id == ConsentEvent.id)
        .where(ConsentEvent.contact_id == contact_id)
        .order_by(ConsentEvent.id)
    )
    return [(event, proof) for event, proof in session.execute(query)]


def current_consent(session: Session, *, contact_id: int) -> dict[tuple[str, str], ConsentState]:
    """The current consent of one contact, keyed by (channel, purpose)."""
    return current_consent_bulk(session, contact_ids=[contact_id]).get(contact_id, {})


def current_consent_bulk(
    session: Session, *, contact_ids: Collection[int]
) -> dict[int, dict[tuple[str, str], ConsentState]]:
    """The current consent of many contacts in one query, keyed by contact id.

    Only states the ledger supports (`supported_state`): the policy never sees the others.
    """
    result: dict[int, dict[tuple[str, str], ConsentState]] = {}
    ids = list(contact_ids)
    for start in range(0, len(ids), 10_000):
        chunk = ids[start : start + 10_000]
        query = select(ConsentState).where(ConsentState.contact_id.in_(chunk), supported_state())
        # the state is written by Core upserts: objects already loaded must be read again
        query = query.execution_options(populate_existing=True)
        for state in session.scalars(query):
            result.setdefault(state.contact_id, {})[(state.channel, state.purpose)] = state
    return result


def _summary_entry() -> Any:
    return (
        ConsentState.channel
        + ":"
        + ConsentState.purpose
        + ":"
        + ConsentState.status
        + ":"
        + ConsentState.source
        + ":"
        + func.coalesce(ConsentState.frequency, "")
    )


def consent_summary(contact_id: Any) -> Any:
    """A SQL expression: one contact's consent states as one text (see `parse_consent_summary`).

    `contact_id` is the column or value naming the contact; NULL when there is none. The
    planner reads it with each contact, and recipients with the same text share a decision.
    """
    entry = _summary_entry()
    return (
        select(func.aggregate_strings(entry, "|"))
        .where(ConsentState.contact_id == contact_id, supported_state())
        .scalar_subquery()
    )


@functools.lru_cache(maxsize=4096)
def parse_consent_summary(
    summary: str | None,
) -> tuple[tuple[str, str, str, str, str], ...]:
    """(channel, purpose, status, source, frequency limit or "") per state, from
    `consent_summary`'s text."""
    if not summary:
        return ()
    states = []
    for entry in summary.split("|"):
        channel, purpose, status, source, frequency = entry.split(":")
        states.append((channel, purpose, status, source, frequency))
    return tuple(sorted(states))


def consent_rows_bulk(session: Session, *, contact_ids: Collection[int]) -> dict[int, str]:
    """`consent_summary` of many contacts (those with any state), in bulk."""
    found: dict[int, str] = {}
    wanted = set(contact_ids)
    entry = _summary_entry()
    connection = session.connection()  # plain rows: no ORM work on the hot path
    for condition in id_conditions(ConsentState.contact_id, wanted):
        query = (
            select(ConsentState.contact_id, func.aggregate_strings(entry, "|"))
            .where(condition, supported_state())
            .group_by(ConsentState.contact_id)
        )
        for contact_id, summary in connection.execute(query).all():
            if contact_id in wanted:
                found[contact_id] = summary
    return found


def verify_ledger(
    session: Session, *, digest: Digester, batch_size: int = 5_000, states: bool = True
) -> LedgerReport:
    """Recompute the whole chain and every remaining proof digest; name the first break.

    With `states`, also recompute every derived state and STOP suppression from the ledger
    and report each difference (`LedgerReport.differences`).
    """
    report = LedgerReport()
    expected_id, prev_hash = 1, GENESIS_HASH

    def broken(event_id: int, problem: str) -> None:
        if report.ok:
            report.ok, report.first_broken_id, report.problem = False, event_id, problem
        report.problems.append(problem)

    last_id = 0
    while True:
        # Plain rows, not ORM objects: the session's identity map stays small and untouched.
        events = session.execute(
            select(*ConsentEvent.__table__.columns)
            .where(ConsentEvent.id > last_id)
            .order_by(ConsentEvent.id)
            .limit(batch_size)
        ).all()
        if not events:
            break
        proofs = {
            p.event_id: p
            for p in session.execute(
                select(*ConsentProof.__table__.columns).where(
                    ConsentProof.event_id.in_([e.id for e in events])
                )
            )
        }
        for event in events:
            report.events_checked += 1
            if event.id != expected_id:
                broken(event.id, f"event {expected_id} is missing (next is {event.id})")
            if event.prev_hash != prev_hash:
                broken(event.id, f"event {event.id} does not follow the previous event's hash")
            computed = event_hash(
                event_id=event.id,
                contact_id=event.contact_id,
                channel=event.channel,
                purpose=event.purpose,
                action=event.action,
                source=event.source,
                occurred_at=event.occurred_at,
                recorded_at=event.recorded_at,
                consent_text_version=event.consent_text_version,
                proof_digest=event.proof_digest,
                prev_hash=event.prev_hash,
            )
            if computed != event.hash:
                broken(event.id, f"event {event.id} was altered: its content no longer matches")
            proof = proofs.get(event.id)
            if proof is not None:
                report.proofs_checked += 1
                if proof_digest(salt=proof.salt, data=proof.data) != event.proof_digest:
                    broken(event.id, f"the proof of event {event.id} was altered")
            elif event.proof_digest is not None:
                report.proofs_erased += 1
            expected_id, prev_hash = event.id + 1, event.hash
        last_id = events[-1].id
    head = session.get(LedgerHead, _HEAD_ID)
    if head is not None and (head.last_event_id, head.last_hash) != (expected_id - 1, prev_hash):
        broken(
            expected_id,
            f"the ledger ends at event {expected_id - 1} but its head records event "
            f"{head.last_event_id}: events were removed from the end",
        )
    if states:
        checked = check_states(session, digest=digest)
        report.states_checked, report.differences = checked.states_checked, checked.differences
        for diff in checked.differences:
            problem = (
                f"contact {diff.contact_id} {diff.channel}/{diff.purpose}: stored "
                f"{diff.stored}, the ledger says {diff.derived}"
            )
            report.ok = False
            report.problem = report.problem or problem
            report.problems.append(problem)
    return report


def rebuild_state(session: Session, *, digest: Digester, batch_size: int = 5_000) -> int:
    """Recompute `consent_state` (and missing STOP suppressions) from the ledger.

    Returns the number of states written.
    """
    return repair_states(session, digest=digest, batch_size=batch_size)


def add_consent_text(
    session: Session,
    *,
    version: str,
    body: str,
    channel: Channel | str = Channel.SMS,
    purpose: Purpose | str = Purpose.MARKETING,
    language: str = "fr",
) -> ConsentText:
    """Register the exact text shown to people under a version name (never changed later)."""
    version = version.strip()
    if not version or not body.strip():
        raise ValidationError("a consent text needs a version name and a body")
    if not _VERSION.fullmatch(version):
        raise ValidationError(
            f"consent text version {version!r}: use 1 to 64 letters, digits, '.', '-' or '_'",
            field="version",
        )
    if any(ord(char) < 32 and char not in "\n\r\t" for char in body):
        raise ValidationError("a consent text cannot hold control characters", field="body")
    if get_consent_text(session, version=version) is not None:
        raise ValidationError(
            f"consent text {version!r} exists already: texts are never changed, "
            "register a new version",
            field="version",
        )
    text = ConsentText(
        version=version,
        channel=str(Channel(channel)),
        purpose=str(Purpose(purpose)),
        language=language.lower(),
        body=body,
    )
    session.add(text)
    session.flush()
    return text


def get_consent_text(session: Session, *, version: str) -> ConsentText | None:
    """The consent text registered under `version`, or None."""
    return session.scalars(select(ConsentText).where(ConsentText.version == version)).first()


def list_consent_texts(session: Session) -> list[ConsentText]:
    """Every registered consent text, oldest first."""
    return list(session.scalars(select(ConsentText).order_by(ConsentText.id)))
