"""The current consent as a function of the ledger, and the checks that hold the stored
state to it.

The rule (`derive_state`), per contact, channel and purpose, over the events in chain order
(the order they were recorded):

- a **revocation** always becomes the state: one recorded after a grant wins, whatever
  either event's time of consent says;
- a **grant or confirmation** becomes the state unless a revocation recorded before it says
  the person withdrew *later* than this consent (an old consent imported after a STOP never
  revives it), or the state is already a consent given later;
- a **request** (double opt-in awaiting the reply) never replaces a consent: it is recorded
  beside it; it becomes the state only where there is no consent;
- a **limit** (`limit-2-a-month`, `limit-1-a-week`, `limit-default`: the person's own
  frequency, chosen in the preference centre) never touches the consent: the last one
  recorded is the state's `frequency`, carried by the state the consent events give.

So a grant G is the consent in force iff no revocation R of the same key has
`R.id > G.id or R.occurred_at > G.occurred_at`: `supported_state` checks exactly that, in
SQL, for every state row the planner and the claim read, so a state row the ledger does not
support (written by hand, or left stale) never lets marketing through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, exists, insert, not_, or_, select
from sqlalchemy.orm import Session, aliased

from textopt.consent.models import (
    LIMIT_ACTIONS,
    ConsentAction,
    ConsentEvent,
    ConsentSource,
    ConsentState,
    SuppressionReason,
)
from textopt.consent.suppression import Digester, suppress_addresses, suppressed_phones
from textopt.contacts.models import Contact
from textopt.db.batching import id_conditions
from textopt.vocab import Channel, Purpose

__all__ = [
    "DerivedState",
    "StateDifference",
    "StateReport",
    "check_states",
    "derive_state",
    "derive_states",
    "repair_states",
    "state_rows",
    "states_for",
    "supported_state",
    "suppress_stops",
]

Key = tuple[int, str, str]
_CONSENTING = (ConsentAction.GRANTED, ConsentAction.CONFIRMED)
#: Revocations that come from a STOP: the number must be on the suppression list.
_STOP_SOURCES = (ConsentSource.KEYWORD, ConsentSource.PROVIDER)


@dataclass(frozen=True, slots=True)
class DerivedState:
    """What the ledger says for one key: the status, its source and time, the event, and
    the person's own frequency limit (None: the workspace's caps alone)."""

    status: str
    source: str
    since: dt.datetime
    event_id: int
    frequency: str | None = None


def derive_state(events: Iterable[Mapping[str, Any]]) -> DerivedState | None:
    """The state of one key from its events (mappings with id, action, source, occurred_at)."""
    current: Mapping[str, Any] | None = None
    withdrawn_at: dt.datetime | None = None
    frequency: str | None = None
    for event in sorted(events, key=lambda e: int(e["id"])):
        action, at = event["action"], event["occurred_at"]
        if action in LIMIT_ACTIONS:
            limit = LIMIT_ACTIONS[action]
            frequency = None if limit is None else str(limit)
            continue
        if action == ConsentAction.REVOKED:
            current = event
            withdrawn_at = at if withdrawn_at is None else max(withdrawn_at, at)
            continue
        if withdrawn_at is not None and at < withdrawn_at:
            continue  # given before a withdrawal recorded earlier: not in force
        held = current["action"] if current is not None else None
        if held in _CONSENTING:
            if action == ConsentAction.REQUESTED:
                continue  # a pending signup never demotes a consent
            assert current is not None
            if at < current["occurred_at"]:
                continue  # an older consent: the later one stays
        current = event
    if current is None:
        return None
    return DerivedState(
        status=str(current["action"]),
        source=str(current["source"]),
        since=current["occurred_at"],
        event_id=int(current["id"]),
        frequency=frequency,
    )


def derive_states(events: Iterable[Mapping[str, Any]]) -> dict[Key, DerivedState]:
    """`derive_state` for every (contact, channel, purpose) among `events`."""
    grouped: dict[Key, list[Mapping[str, Any]]] = {}
    for event in events:
        key = (int(event["contact_id"]), str(event["channel"]), str(event["purpose"]))
        grouped.setdefault(key, []).append(event)
    found: dict[Key, DerivedState] = {}
    for key, rows in grouped.items():
        state = derive_state(rows)
        if state is not None:
            found[key] = state
    return found


_COLUMNS = (
    ConsentEvent.id,
    ConsentEvent.contact_id,
    ConsentEvent.channel,
    ConsentEvent.purpose,
    ConsentEvent.action,
    ConsentEvent.source,
    ConsentEvent.occurred_at,
)


def ledger_events(session: Session, *, contact_ids: Collection[int]) -> list[Mapping[str, Any]]:
    """The decision-relevant columns of every event of these contacts (bulk, by id ranges)."""
    rows: list[Mapping[str, Any]] = []
    for condition in id_conditions(ConsentEvent.contact_id, set(contact_ids)):
        for row in session.execute(select(*_COLUMNS).where(condition)):
            rows.append(dict(row._mapping))
    wanted = set(contact_ids)
    return [r for r in rows if r["contact_id"] in wanted]


def supported_state() -> Any:
    """A SQL condition on `consent_state`: the row is backed by the ledger.

    A row that is not a consent (requested, revoked) only ever holds messages back and is
    taken as it is. A consent must name an event of the same contact, channel and purpose
    with the same action and source, and no revocation of that key may outrank it (recorded
    after it, or withdrawing later than it was given). Two index lookups per row: the
    event by its key, the key's revocations by `ix_consent_events_contact`.
    """
    grant = aliased(ConsentEvent)
    revocation = aliased(ConsentEvent)
    outranked = exists().where(
        revocation.contact_id == grant.contact_id,
        revocation.channel == grant.channel,
        revocation.purpose == grant.purpose,
        revocation.action == str(ConsentAction.REVOKED),
        or_(revocation.id > grant.id, revocation.occurred_at > grant.occurred_at),
    )
    backed = exists().where(
        grant.id == ConsentState.event_id,
        grant.contact_id == ConsentState.contact_id,
        grant.channel == ConsentState.channel,
        grant.purpose == ConsentState.purpose,
        grant.action == ConsentState.status,
        grant.source == ConsentState.source,
        not_(outranked),
    )
    return or_(ConsentState.status.not_in([str(a) for a in _CONSENTING]), backed)


@dataclass(frozen=True, slots=True)
class StateDifference:
    """One place where the stored state or suppression list disagrees with the ledger."""

    contact_id: int
    channel: str
    purpose: str
    stored: str  # "granted (form, event 12)", "none", "not suppressed"...
    derived: str


@dataclass(slots=True)
class StateReport:
    """What `check_states` found."""

    states_checked: int = 0
    differences: list[StateDifference] = field(default_factory=list)


def _describe(state: DerivedState | None) -> str:
    if state is None:
        return "none"
    limit = f", at most {state.frequency}" if state.frequency else ""
    return f"{state.status} ({state.source}, event {state.event_id}{limit})"


def _stored_states(session: Session, contact_ids: Collection[int]) -> dict[Key, DerivedState]:
    found: dict[Key, DerivedState] = {}
    columns = (
        ConsentState.contact_id,
        ConsentState.channel,
        ConsentState.purpose,
        ConsentState.status,
        ConsentState.source,
        ConsentState.since,
        ConsentState.event_id,
        ConsentState.frequency,
    )
    for condition in id_conditions(ConsentState.contact_id, set(contact_ids)):
        for row in session.execute(select(*columns).where(condition)):
            found[(row[0], row[1], row[2])] = DerivedState(*row[3:8])
    return found


def _all_contact_ids(session: Session) -> list[int]:
    events = select(ConsentEvent.contact_id).distinct()
    states = select(ConsentState.contact_id).distinct()
    return sorted(set(session.scalars(events)) | set(session.scalars(states)))


def _missing_stops(
    session: Session, derived: Mapping[Key, DerivedState], digest: Digester
) -> list[tuple[int, str]]:
    """(contact, number) of each live contact whose SMS marketing state is a STOP but whose
    number is not on the suppression list."""
    stopped = {
        key[0]
        for key, state in derived.items()
        if key[1] == Channel.SMS
        and key[2] == Purpose.MARKETING
        and state.status == ConsentAction.REVOKED
        and state.source in _STOP_SOURCES
    }
    if not stopped:
        return []
    phones: dict[int, str] = {}
    for condition in id_conditions(Contact.id, stopped):
        query = select(Contact.id, Contact.phone).where(condition, Contact.erased_at.is_(None))
        phones.update(
            {cid: phone for cid, phone in session.execute(query) if cid in stopped and phone}
        )
    listed = suppressed_phones(
        session, digest=digest, phones=set(phones.values()), channel=Channel.SMS
    )
    return sorted((cid, phone) for cid, phone in phones.items() if phone not in listed)


def _compare(
    session: Session, contact_ids: list[int], digest: Digester
) -> tuple[dict[Key, DerivedState], dict[Key, DerivedState], list[tuple[int, str]]]:
    derived = derive_states(ledger_events(session, contact_ids=contact_ids))
    stored = _stored_states(session, contact_ids)
    return derived, stored, _missing_stops(session, derived, digest)


def check_states(session: Session, *, digest: Digester, batch_size: int = 5_000) -> StateReport:
    """Recompute every state and the STOP suppressions from the ledger; list the differences."""
    report = StateReport()
    ids = _all_contact_ids(session)
    for start in range(0, len(ids), batch_size):
        derived, stored, missing = _compare(session, ids[start : start + batch_size], digest)
        report.states_checked += len(derived)
        for key in sorted(set(derived) | set(stored)):
            want, have = derived.get(key), stored.get(key)
            if (
                want is None
                or have is None
                or (want.status, want.source, want.event_id, want.frequency)
                != (have.status, have.source, have.event_id, have.frequency)
            ):
                report.differences.append(
                    StateDifference(*key, stored=_describe(have), derived=_describe(want))
                )
        for contact_id, _phone in missing:
            report.differences.append(
                StateDifference(
                    contact_id,
                    str(Channel.SMS),
                    "suppression",
                    stored="not suppressed",
                    derived=f"suppressed ({SuppressionReason.KEYWORD}: the ledger records a STOP)",
                )
            )
    return report


def repair_states(session: Session, *, digest: Digester, batch_size: int = 5_000) -> int:
    """Rewrite `consent_state` from the ledger and add missing STOP suppressions.

    Returns the number of states written. Suppression entries are only ever added: an
    entry the ledger does not explain (an operator's, a complaint, an erasure) stays.
    """
    ids = _all_contact_ids(session)
    written = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        derived, _stored, missing = _compare(session, chunk, digest)
        for condition in id_conditions(ConsentState.contact_id, set(chunk)):
            session.execute(delete(ConsentState).where(condition))
        values = state_rows(derived)
        if values:
            session.execute(insert(ConsentState), values)
        written += len(values)
        if missing:
            suppress_addresses(
                session,
                digest=digest,
                notes={phone: "restored from the ledger" for _cid, phone in missing},
                channel=Channel.SMS,
                reason=SuppressionReason.KEYWORD,
            )
    return written


def suppress_stops(
    session: Session, *, digest: Digester, rows: Collection[Mapping[str, Any]]
) -> None:
    """Put the number of each STOP among new events on the suppression list (idempotent).

    The inbound path suppresses at once when it stores the message; this keeps every other
    writer of a STOP (an operator's `--source keyword`, an import) to the same rule, so the
    list is what the ledger says (`check_states`).
    """
    stops = {
        int(r["contact_id"]): int(r["id"])
        for r in rows
        if r["action"] == ConsentAction.REVOKED
        and r["source"] in _STOP_SOURCES
        and r["channel"] == Channel.SMS
        and r["purpose"] == Purpose.MARKETING
    }
    if not stops:
        return
    notes: dict[str, str | None] = {}
    for condition in id_conditions(Contact.id, stops):
        query = select(Contact.id, Contact.phone).where(condition, Contact.erased_at.is_(None))
        for contact_id, phone in session.execute(query):
            if contact_id in stops and phone:
                notes[phone] = f"ledger event {stops[contact_id]}"
    suppress_addresses(
        session, digest=digest, notes=notes, channel=Channel.SMS, reason=SuppressionReason.KEYWORD
    )


def states_for(session: Session, *, rows: Collection[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The state rows of the keys `rows` (new events) touch, derived from their whole ledger."""
    keys = {(r["contact_id"], r["channel"], r["purpose"]) for r in rows}
    contact_ids = {k[0] for k in keys}
    derived = derive_states(
        e
        for e in ledger_events(session, contact_ids=contact_ids)
        if (e["contact_id"], e["channel"], e["purpose"]) in keys
    )
    return state_rows(derived)


def state_rows(derived: Mapping[Key, DerivedState]) -> list[dict[str, Any]]:
    """`consent_state` rows for derived states."""
    return [
        {
            "contact_id": key[0],
            "channel": key[1],
            "purpose": key[2],
            "status": state.status,
            "source": state.source,
            "since": state.since,
            "event_id": state.event_id,
            "frequency": state.frequency,
        }
        for key, state in derived.items()
    ]
