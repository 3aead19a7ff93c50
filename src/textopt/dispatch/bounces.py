"""Email bounces: permanent SMTP refusals counted on the contact, until the address is dead.

A 5xx reply to an email fails the message (`record_results`) and counts one bounce on the
contact; an acceptance resets the count, so only bounces in a row add up. At
`email_bounce_limit` bounces, or at once for a 5.1.x reply (the mailbox does not exist), the
address is marked undeliverable: the policy then treats the contact as having no address.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from textopt.contacts.models import Contact
from textopt.outbox.models import Message
from textopt.providers.base import SubmitOutcome, SubmitResult
from textopt.vocab import Channel

__all__ = ["is_hard_bounce", "record_email_bounces"]

# RFC 3463 enhanced status 5.1.x: bad destination mailbox, system or address syntax.
_NO_SUCH_ADDRESS = re.compile(r"^5\.1\.\d{1,3}\b")


def is_hard_bounce(result: SubmitResult) -> bool:
    """Whether a refusal says the address itself does not exist (5.1.x)."""
    return bool(_NO_SUCH_ADDRESS.match((result.error_text or "").strip()))


def _bounced(result: SubmitResult) -> bool:
    # Only the server's own 5xx replies count: a message we could not even build is our fault.
    code = result.error_code or ""
    return result.outcome == SubmitOutcome.PERMANENT and code.isdigit() and code.startswith("5")


def record_email_bounces(
    session: Session, *, results: Sequence[SubmitResult], limit: int, now: dt.datetime
) -> int:
    """Count the bounces of a batch of email results; returns the addresses made undeliverable."""
    outcomes = {
        r.message_id: r for r in results if _bounced(r) or r.outcome == SubmitOutcome.ACCEPTED
    }
    if not outcomes:
        return 0
    query = select(Message.id, Message.contact_id).where(
        Message.id.in_(list(outcomes)), Message.channel == Channel.EMAIL
    )
    owners = {mid: cid for mid, cid in session.execute(query) if cid is not None}
    delivered = {owners[i] for i, r in outcomes.items() if i in owners and not _bounced(r)}
    bounces: dict[int, list[SubmitResult]] = {}
    for message_id, result in outcomes.items():
        if message_id in owners and _bounced(result):
            bounces.setdefault(owners[message_id], []).append(result)
    if delivered - set(bounces):
        session.execute(
            update(Contact)
            .where(Contact.id.in_(delivered - set(bounces)), Contact.email_bounces > 0)
            .values(email_bounces=0)
            .execution_options(synchronize_session=False)
        )
    if not bounces:
        return 0
    contacts = session.execute(
        select(Contact.id, Contact.email_bounces, Contact.email_undeliverable_at).where(
            Contact.id.in_(list(bounces))
        )
    ).all()
    changes = []
    dead = 0
    for contact_id, count, undeliverable_at in contacts:
        found = bounces[contact_id]
        total = (count or 0) + len(found)
        change: dict[str, object] = {"id": contact_id, "email_bounces": total}
        if undeliverable_at is None and (total >= limit or any(map(is_hard_bounce, found))):
            change["email_undeliverable_at"] = now
            dead += 1
        changes.append(change)
    session.execute(update(Contact), changes)
    return dead
