"""Provider feedback on SMS: numbers that never work, and opt-outs made at the provider.

Some permanent errors say something about the number rather than the message:

- "this number will never work" (Twilio 21211 invalid number, 21614 not a mobile, 30005
  unknown handset, 30006 landline; SMPP ESME_RINVDSTADR at submission, GSM "unknown
  subscriber" in a receipt): each failed message counts one failure against its number, and
  `sms_undeliverable_limit` of them in a row make the number undeliverable. The policy then
  blocks every SMS to it with the reason `undeliverable`, in planning (per recipient and by
  class), in the claim's re-check and in one-off sends alike (`eligibility`).
- "the person opted out at the provider" (Twilio 21610): the contact's SMS marketing consent
  is revoked in the ledger with the source `provider`, and the number is suppressed as a STOP
  would suppress it (reason `keyword`: marketing only, lifted by the person's START).

Which codes mean which is configured per provider kind or account (`sms_undeliverable_codes`,
`sms_opt_out_codes`). The count lives per number (`NumberFailure`), under the keyed digest of
the suppression list: a one-off may go to a number without a contact, a contact given a new
number starts clean, and the table holds no number in clear.

Only failures in a row count, and the outbox already holds every success, so successes cost
nothing here: when a failure comes, a success to the same number since the last one starts
the count again. A delivery ends any run of failures; an acceptance ends a run of refusals at
submission only, since a failure a receipt reports follows the message's own acceptance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from textopt.config import Settings
from textopt.consent.models import ConsentAction, ConsentSource, SuppressionReason
from textopt.consent.service import NewConsentEvent, append_events, current_consent_bulk
from textopt.consent.suppression import Digester, suppress_addresses
from textopt.db.engine import upsert_insert
from textopt.dispatch.models import FailureStage, NumberFailure
from textopt.outbox.models import Message
from textopt.providers.base import Receipt, ReceiptStatus, SubmitOutcome, SubmitResult
from textopt.vocab import Channel, Purpose

__all__ = [
    "FeedbackReport",
    "FeedbackRules",
    "Meaning",
    "any_undeliverable",
    "clear_number_failures",
    "count_undeliverable",
    "feedback_rules",
    "get_number_failures",
    "record_receipt_feedback",
    "record_submit_feedback",
    "undeliverable_digests",
    "undeliverable_numbers",
]

_CHUNK = 5_000  # digests per IN list


class Meaning(StrEnum):
    """What a provider's error code says about the number."""

    UNDELIVERABLE = "undeliverable"  # the number will never work: counted
    OPT_OUT = "opt_out"  # the person opted out with the provider: revoked and suppressed


@dataclass(frozen=True, slots=True)
class FeedbackRules:
    """Which error codes of which provider account mean what, and the limit; with the
    digester that keys the numbers (counts and suppressions are kept by digest)."""

    limit: int
    undeliverable: Mapping[str, frozenset[str]]  # account -> codes
    opt_out: Mapping[str, frozenset[str]]  # account -> codes
    digest: Digester

    def meaning(self, account: str, code: str | None) -> Meaning | None:
        """What `code` from `account` says about the number, if anything."""
        if not code:
            return None
        code = code.strip().upper()
        if code in self.opt_out.get(account, ()):
            return Meaning.OPT_OUT
        if code in self.undeliverable.get(account, ()):
            return Meaning.UNDELIVERABLE
        return None


def feedback_rules(settings: Settings, *, digest: Digester) -> FeedbackRules:
    """The rules of the configured accounts: each account's own codes, else its kind's."""

    def codes(table: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
        found: dict[str, frozenset[str]] = {}
        for account, options in settings.providers.items():
            kind = str(options.get("kind", account))
            listed = table.get(account, table.get(kind, ()))
            found[account] = frozenset(str(code).strip().upper() for code in listed)
        return found

    return FeedbackRules(
        limit=settings.sms_undeliverable_limit,
        undeliverable=codes(settings.sms_undeliverable_codes),
        opt_out=codes(settings.sms_opt_out_codes),
        digest=digest,
    )


@dataclass(slots=True)
class FeedbackReport:
    """What the feedback of a batch did."""

    counted: int = 0  # failures counted against their numbers
    undeliverable: int = 0  # numbers that became undeliverable
    opted_out: int = 0  # numbers suppressed for an opt-out at the provider


class _Failure(NamedTuple):
    """One failed SMS whose error code says something about its number."""

    message_id: int
    contact_id: int | None
    recipient: str
    account: str
    code: str
    meaning: Meaning
    stage: FailureStage


#: What the feedback reads of a failed message.
_COLUMNS = (
    Message.id,
    Message.contact_id,
    Message.recipient,
    Message.provider,
    Message.status,
    Message.error_code,
    Message.channel,
)


def record_submit_feedback(
    session: Session,
    *,
    provider: str,
    results: Sequence[SubmitResult],
    rules: FeedbackRules,
    now: dt.datetime,
) -> FeedbackReport:
    """Apply what the refusals of a submitted batch say about their numbers.

    Called after `record_results`; a batch the provider took whole costs no query.
    """
    refused = [r for r in results if r.outcome == SubmitOutcome.PERMANENT and r.error_code]
    if not refused:
        return FeedbackReport()
    wanted = {
        r.message_id: meaning
        for r in refused
        if (meaning := rules.meaning(provider, r.error_code)) is not None
    }
    if not wanted:
        return FeedbackReport()
    rows = session.execute(select(*_COLUMNS).where(Message.id.in_(list(wanted)))).all()
    failures = _failures(rows, wanted, FailureStage.SUBMIT)
    return _apply(session, failures, rules=rules, now=now)


def record_receipt_feedback(
    session: Session,
    *,
    receipts: Sequence[Receipt],
    now: dt.datetime,
    rules: FeedbackRules,
) -> FeedbackReport:
    """Apply what failed receipts say about their numbers (after they were recorded).

    A receipt still waiting for its message (an orphan) counts once it is applied; a
    repeated receipt counts once. Without failed receipts this costs no query.
    """
    failed = [r for r in receipts if r.status == ReceiptStatus.FAILED and r.error_code]
    if not failed:
        return FeedbackReport()
    by_provider: dict[str, dict[str, Meaning]] = {}
    for receipt in failed:
        meaning = rules.meaning(receipt.provider, receipt.error_code)
        if meaning is not None:
            by_provider.setdefault(receipt.provider, {})[receipt.provider_message_id] = meaning
    if not by_provider:
        return FeedbackReport()
    rows: list[Any] = []
    ids: dict[int, Meaning] = {}
    for provider, meanings in by_provider.items():
        query = select(*_COLUMNS, Message.provider_message_id).where(
            Message.provider == provider, Message.provider_message_id.in_(list(meanings))
        )
        for row in session.execute(query):
            rows.append(row)
            ids[row.id] = meanings[row.provider_message_id]
    failures = _failures(rows, ids, FailureStage.RECEIPT)
    return _apply(session, failures, rules=rules, now=now)


def _failures(
    rows: Iterable[Any], meanings: Mapping[int, Meaning], stage: FailureStage
) -> list[_Failure]:
    """The messages that did fail with the code (not a late answer for a row moved on, nor a
    receipt after a delivery), to a number: SMS only, emails have their bounces."""
    return [
        _Failure(
            row.id,
            row.contact_id,
            row.recipient,
            row.provider or "",
            row.error_code,
            meanings[row.id],
            stage,
        )
        for row in rows
        if row.channel == Channel.SMS
        and row.recipient
        and row.status == "failed"
        and row.error_code
        and row.id in meanings
    ]


def _apply(
    session: Session,
    failures: Sequence[_Failure],
    *,
    rules: FeedbackRules,
    now: dt.datetime,
) -> FeedbackReport:
    report = FeedbackReport()
    dead = [f for f in failures if f.meaning is Meaning.UNDELIVERABLE]
    if dead:
        _count_failures(
            session, dead, digest=rules.digest, limit=rules.limit, now=now, report=report
        )
    opted = [f for f in failures if f.meaning is Meaning.OPT_OUT]
    if opted:
        report.opted_out = _record_opt_outs(session, opted, digest=rules.digest, now=now)
    return report


def _count_failures(
    session: Session,
    failures: Sequence[_Failure],
    *,
    digest: Digester,
    limit: int,
    now: dt.datetime,
    report: FeedbackReport,
) -> None:
    """Count each failed message once against its number; mark the number at the limit."""
    by_number: dict[str, dict[int, _Failure]] = {}
    for failure in sorted(failures, key=lambda f: f.message_id):
        by_number.setdefault(digest(failure.recipient), {})[failure.message_id] = failure
    known = {
        row.digest: row
        for start in range(0, len(by_number), _CHUNK)
        for row in session.execute(
            select(*NumberFailure.__table__.c).where(
                NumberFailure.digest.in_(list(by_number)[start : start + _CHUNK])
            )
        )
    }
    restarted = _succeeded_since(session, by_number, known)
    rows: list[dict[str, Any]] = []
    for number, found in by_number.items():
        before = known.get(number)
        if before is not None:  # the failure counted last, reported again: counted once
            found.pop(before.last_message_id, None)
        if not found:
            continue
        count = len(found)
        if before is not None and number not in restarted:
            count += before.failures
        marked = before.undeliverable_at if before is not None else None
        if marked is None and count >= limit:
            marked = now
            report.undeliverable += 1
        last = list(found.values())[-1]
        report.counted += len(found)
        rows.append(
            {
                "digest": number,
                "failures": count,
                "stage": str(last.stage),
                "last_code": last.code[:32],
                "last_provider": last.account[:64],
                "last_message_id": last.message_id,
                "last_failure_at": now,
                "undeliverable_at": marked,
            }
        )
    if not rows:
        return
    statement = upsert_insert(session, NumberFailure)
    # two processes counting the same number at once: the last write wins (a count lost)
    statement = statement.on_conflict_do_update(
        index_elements=["digest"],
        set_={key: statement.excluded[key] for key in rows[0] if key != "digest"},
    )
    session.execute(statement, rows)


def _succeeded_since(
    session: Session,
    by_number: Mapping[str, Mapping[int, _Failure]],
    known: Mapping[str, Any],
) -> set[str]:
    """The numbers (digests) with a success since their last counted failure.

    Read from the outbox: the messages to the number (its contact's, by the contact index,
    and those without a contact) delivered since, or, after a refusal at submission,
    accepted since.
    """
    since: dict[str, tuple[str, Any]] = {}  # number in clear -> (digest, its last failure)
    contacts: set[int] = set()
    contactless = False
    for number, found in by_number.items():
        before = known.get(number)
        if before is None or not before.failures:
            continue
        for failure in found.values():
            since[failure.recipient] = (number, before)
            if failure.contact_id is None:
                contactless = True
            else:
                contacts.add(failure.contact_id)
    if not since:
        return set()
    oldest = min(before.last_failure_at for _, before in since.values())
    owners = [Message.contact_id.in_(contacts)] if contacts else []
    if contactless:
        owners.append(Message.contact_id.is_(None))
    query = select(Message.recipient, Message.status, Message.submitted_at, Message.done_at).where(
        or_(*owners),
        Message.recipient.in_(list(since)),
        Message.channel == Channel.SMS,
        or_(
            and_(Message.status == "delivered", Message.done_at > oldest),
            Message.submitted_at > oldest,
        ),
    )
    restarted: set[str] = set()
    for recipient, status, submitted_at, done_at in session.execute(query):
        if recipient not in since:
            continue
        number, before = since[recipient]
        last = before.last_failure_at
        delivered = status == "delivered" and done_at is not None and done_at > last
        refused = before.stage == FailureStage.SUBMIT
        if delivered or (refused and submitted_at is not None and submitted_at > last):
            restarted.add(number)
    return restarted


def _record_opt_outs(
    session: Session, failures: Sequence[_Failure], *, digest: Digester, now: dt.datetime
) -> int:
    """Suppress the numbers and revoke their contacts' SMS marketing (once: a revocation
    already in force is not written again)."""
    notes = {
        f.recipient: f"{f.account}: error {f.code}, opted out at the provider"[:200]
        for f in failures
    }
    suppress_addresses(
        session, digest=digest, notes=notes, channel=Channel.SMS, reason=SuppressionReason.KEYWORD
    )
    first: dict[int, _Failure] = {}
    for failure in failures:
        if failure.contact_id is not None:
            first.setdefault(failure.contact_id, failure)
    states = current_consent_bulk(session, contact_ids=list(first))
    marketing = (str(Channel.SMS), str(Purpose.MARKETING))
    events = [
        NewConsentEvent(
            contact_id=contact_id,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            action=ConsentAction.REVOKED,
            source=ConsentSource.PROVIDER,
            occurred_at=now,
            proof={
                "provider": failure.account,
                "error_code": failure.code,
                "message_id": failure.message_id,
                "phone": failure.recipient,
            },
        )
        for contact_id, failure in sorted(first.items())
        if (state := states.get(contact_id, {}).get(marketing)) is None
        or state.status != ConsentAction.REVOKED
    ]
    append_events(session, digest=digest, events=events, now=now)
    return len(notes)


# -- reading: planning, the claim's re-check, one-off sends, the faces ----------------------


def any_undeliverable(session: Session) -> bool:
    """Whether any number is undeliverable (else no number needs hashing)."""
    query = select(NumberFailure.digest).where(NumberFailure.undeliverable_at.is_not(None))
    return session.connection().execute(query.limit(1)).first() is not None


def count_undeliverable(session: Session) -> int:
    """How many numbers are undeliverable."""
    query = select(func.count()).where(NumberFailure.undeliverable_at.is_not(None))
    return int(session.connection().scalar(query) or 0)


def undeliverable_digests(session: Session, *, digests: Collection[str] | None = None) -> set[str]:
    """The digests of undeliverable numbers (only among `digests` when given)."""
    query = select(NumberFailure.digest).where(NumberFailure.undeliverable_at.is_not(None))
    connection = session.connection()
    if digests is None:
        return set(connection.scalars(query))
    items = list(digests)
    found: set[str] = set()
    for start in range(0, len(items), _CHUNK):
        chunk = items[start : start + _CHUNK]
        found.update(connection.scalars(query.where(NumberFailure.digest.in_(chunk))))
    return found


def undeliverable_numbers(
    session: Session, *, digest: Digester, phones: Collection[str]
) -> set[str]:
    """Which of these E.164 numbers are undeliverable (one query per 5,000)."""
    if not phones or not any_undeliverable(session):
        return set()
    by_digest = {digest(phone): phone for phone in phones}
    return {by_digest[d] for d in undeliverable_digests(session, digests=by_digest)}


def get_number_failures(session: Session, *, digest: Digester, phone: str) -> NumberFailure | None:
    """The failures counted against a number (with since when it is undeliverable), or None."""
    return session.get(NumberFailure, digest(phone))


def clear_number_failures(session: Session, *, digest: Digester, phone: str) -> bool:
    """Forget a number's failures, undeliverable or not (the operator checked it works);
    returns whether there were any."""
    result = session.execute(delete(NumberFailure).where(NumberFailure.digest == digest(phone)))
    return bool(result.rowcount)  # type: ignore[attr-defined]
