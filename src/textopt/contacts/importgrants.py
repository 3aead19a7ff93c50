"""Recording the consent an import batch claims: one ledger append per batch.

A claim is refused, with a warning naming the row, when the address is suppressed on its
channel, when a soft opt-in names someone who is not a customer, or when the ledger
already holds an equal or newer state (a later withdrawal wins over the file).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from textopt.consent import service as consent_service
from textopt.consent.models import ConsentAction, ConsentSource
from textopt.consent.suppression import Digester
from textopt.contacts.importrows import ImportRow, IssueCode, RowIssue
from textopt.vocab import Channel, Purpose

__all__ = ["record_batch_consents"]

_GRANTED = (ConsentAction.GRANTED.value, ConsentAction.CONFIRMED.value)


def record_batch_consents(
    session: Session,
    rows: list[ImportRow],
    *,
    ids: dict[int, int],
    customers: dict[int, bool],
    issues: list[RowIssue],
    source_name: str,
    digest: Digester,
) -> int:
    """Append the batch's new marketing grants in one call; warn about the refused ones.

    `ids` and `customers` are by the rows' lines; returns the number of grants appended.
    """
    if not rows:
        return 0
    states = consent_service.current_consent_bulk(session, contact_ids=[ids[r.line] for r in rows])
    events: list[consent_service.NewConsentEvent] = []
    for channel in (Channel.SMS, Channel.EMAIL):
        claims = [(r, r.consents[channel]) for r in rows if channel in r.consents]
        suppressed = consent_service.suppressed_phones(
            session,
            digest=digest,
            phones=[_address(r, channel) for r, _ in claims],
            channel=channel,
        )
        for row, claim in claims:
            address = _address(row, channel)
            contact_id = ids[row.line]
            if address in suppressed:
                what = "number" if channel == Channel.SMS else "email address"
                _warn(
                    issues,
                    row,
                    IssueCode.SUPPRESSED,
                    f"{what} is on the {channel} suppression list "
                    f"({', '.join(suppressed[address])}): {channel} consent not recorded",
                )
                continue
            if claim.source is ConsentSource.SOFT_OPT_IN and not customers[row.line]:
                _warn(
                    issues,
                    row,
                    IssueCode.SOFT_OPT_IN_NOT_CUSTOMER,
                    "soft opt-in needs an existing customer (customer column): consent not "
                    "recorded",
                )
                continue
            state = states.get(contact_id, {}).get((channel.value, Purpose.MARKETING.value))
            if state is not None and state.since >= claim.occurred_at:
                if state.status not in _GRANTED:
                    _warn(
                        issues,
                        row,
                        IssueCode.REVOKED_LATER,
                        f"{channel} consent was withdrawn on {state.since:%Y-%m-%d %H:%M} UTC, "
                        "after the file's consent_at: consent not recorded",
                    )
                continue  # an equal or newer grant is already on record
            proof: dict[str, Any] = {
                ("phone" if channel == Channel.SMS else "email"): address,
                "ip": claim.ip,
                "file": source_name,
                "line": row.line,
            }
            if claim.description:
                proof["description"] = claim.description
            events.append(
                consent_service.NewConsentEvent(
                    contact_id=contact_id,
                    channel=channel,
                    purpose=Purpose.MARKETING,
                    action=ConsentAction.GRANTED,
                    source=claim.source,
                    occurred_at=claim.occurred_at,
                    consent_text_version=claim.text_version,
                    proof=proof,
                )
            )
    consent_service.append_events(session, digest=digest, events=events)
    return len(events)


def _address(row: ImportRow, channel: Channel) -> str:
    """The row's address on `channel` (a claim exists only for rows that have it)."""
    address = row.e164 if channel == Channel.SMS else row.email
    assert address is not None
    return address


def _warn(issues: list[RowIssue], row: ImportRow, code: str, reason: str) -> None:
    issues.append(RowIssue(row.line, "warning", code, reason, row.cells))
