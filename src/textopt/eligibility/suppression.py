"""Which addresses the policy must treat as suppressed, or as numbers that never work.

One lookup for planning (a whole run: a short list is read once and checked in memory),
the claim's re-check and one-off sends (a few addresses: one statement by digest). Numbers
are compared by their keyed digest only; the digester is given by the caller, who holds the
workspace's secret key.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import literal_column, select
from sqlalchemy.orm import Session

from textopt.consent.models import Suppression
from textopt.consent.suppression import Digester, count_suppressions, reasons_by_digest
from textopt.db.bulk import among_rows, id_list, ids_parameter
from textopt.dispatch.feedback import any_undeliverable, count_undeliverable, undeliverable_digests
from textopt.policy import Reason
from textopt.vocab import Channel

__all__ = ["UNDELIVERABLE", "SuppressionLookup", "find_suppressed"]

#: What a lookup gives a number the provider reported as never working, beside its
#: suppression reasons: every path that finds suppressed numbers finds these too, and
#: `contact_facts` sets it apart.
UNDELIVERABLE = str(Reason.UNDELIVERABLE)

#: The lookup by digests, by dialect and channel: built once, its list bound as one value.
_QUERIES: dict[tuple[str, str], Any] = {}


def find_suppressed(
    session: Session, *, digest: Digester, addresses: Collection[str], channel: Channel | str
) -> dict[str, tuple[str, ...]]:
    """Which of these addresses are suppressed on `channel` (or, for SMS, undeliverable),
    with their sorted reasons (`UNDELIVERABLE` among them)."""
    channel = Channel(channel)
    if not addresses:
        return {}
    channels = [str(channel), "all"]
    connection = session.connection()
    dead = channel == Channel.SMS and any_undeliverable(session)
    anything = select(Suppression.id).where(Suppression.channel.in_(channels)).limit(1)
    if not dead and connection.execute(anything).first() is None:
        return {}  # nothing suppressed on this channel: no address needs hashing
    by_digest = {digest(a): a for a in addresses}
    found: dict[str, set[str]] = {}
    for number in undeliverable_digests(session, digests=by_digest) if dead else ():
        found[by_digest[number]] = {UNDELIVERABLE}
    dialect = session.get_bind().dialect.name
    query = _QUERIES.get((dialect, channel))
    if query is None:
        query = _QUERIES[(dialect, channel)] = select(Suppression.digest, Suppression.reason).where(
            among_rows(
                dialect, Suppression.digest, ids_parameter(dialect, "digests", Suppression.digest)
            ),
            Suppression.channel.in_([literal_column(f"'{c}'") for c in channels]),
        )
    for key, reason in connection.execute(query, {"digests": id_list(dialect, by_digest)}):
        found.setdefault(by_digest[key], set()).add(reason)
    return {address: tuple(sorted(reasons)) for address, reasons in found.items()}


class SuppressionLookup:
    """The suppression list of one channel for a planning run, and for SMS the numbers the
    provider reported as never working (their reason: `UNDELIVERABLE`).

    A short list is read once and numbers are checked in memory; a long one is queried
    per batch (`find_suppressed`).
    """

    def __init__(
        self,
        session: Session,
        channel: Channel | str,
        *,
        digest: Digester,
        preload_limit: int = 200_000,
    ) -> None:
        self.channel = Channel(channel)
        self.digest = digest
        self._all: dict[str, tuple[str, ...]] | None = None
        if not preload_limit:
            return
        numbers = self.channel == Channel.SMS
        size = count_suppressions(session, channel=self.channel)
        if numbers:
            size += count_undeliverable(session)
        if size <= preload_limit:
            self._all = {
                key: tuple(reasons)
                for key, reasons in reasons_by_digest(session, channel=self.channel).items()
            }
            for key in undeliverable_digests(session) if numbers else ():
                self._all[key] = tuple(sorted((*self._all.get(key, ()), UNDELIVERABLE)))

    @property
    def preloaded(self) -> bool:
        """Whether the list is held in memory (checking needs no database work)."""
        return self._all is not None

    @property
    def empty(self) -> bool:
        """Whether the list is known to have no entry for this channel."""
        return self._all is not None and not self._all

    def find(self, session: Session, addresses: Collection[str]) -> dict[str, tuple[str, ...]]:
        """Which of these addresses are suppressed (or undeliverable), and why."""
        if self._all is None:
            return find_suppressed(
                session, digest=self.digest, addresses=addresses, channel=self.channel
            )
        table, digest = self._all, self.digest
        found = {}
        for address in addresses:
            reasons = table.get(digest(address))
            if reasons:
                found[address] = reasons
        return found
