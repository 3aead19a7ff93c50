"""What an SMSC sends back on one SMPP account: receipts, gathered per message, and MOs.

A message's provider id is its first part's SMSC id; the other parts' ids point to it, in
memory and, for multipart messages, in the `sms_parts` table (a receipt may come after a
restart). One `Receipt` per message is emitted once every part is final: delivered when all
parts are, failed or expired as soon as one is. A receipt that overtakes its `submit_sm_resp`
is held until the response names its part (at most the response timeout).

Every `deliver_sm` (receipt or MO) is answered only once what it says is stored: the parts'
outcomes here, the receipts and MOs by the dispatcher's sink, in batches (`Handover`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import smpp34
from sqlalchemy import Engine

from textopt.compose import decode_gsm
from textopt.db.engine import session_scope
from textopt.errors import TextoptError
from textopt.providers import smpp_store
from textopt.providers.base import Receipt, ReceiptSink, ReceiptStatus
from textopt.providers.handover import Acknowledge, Handover
from textopt.providers.mo import InboundSms
from textopt.providers.smpp_binds import SmppOptions
from textopt.providers.smpp_pdu import Tag
from textopt.providers.smpp_receipts import PartReceipt, parse_receipt, receipt_from_stat
from textopt.providers.smpp_session import SmppSession

__all__ = ["SmppReceiving"]

log = logging.getLogger(__name__)

_PURGE_EVERY = 3600.0  # seconds between purges of multipart parts past `parts_keep_days`
_REMEMBERED_IDS = 500_000  # part ids kept in memory to match receipts (oldest forgotten)


@dataclass(slots=True)
class _Tracked:
    """A multipart message whose receipts are being gathered."""

    ids: list[str]  # the parts' SMSC ids in order; the first is the message's provider id
    finals: dict[int, PartReceipt] = field(default_factory=dict)  # by part index
    emitted: bool = False

    @property
    def key(self) -> str:
        """The message's provider id."""
        return self.ids[0]

    @property
    def total(self) -> int:
        """How many parts the message has."""
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class _Held:
    """A receipt waiting for its message to be known, and the answer its PDU waits for."""

    receipt: PartReceipt
    ack: Acknowledge | None
    since: float  # monotonic time of arrival


class SmppReceiving:
    """Receipts and MOs of one SMPP account, handed to the sink in batches."""

    def __init__(self, name: str, options: SmppOptions) -> None:
        self.name = name
        self.options = options
        self._handover = Handover(f"SMPP {name}", prepare=self._store_parts)
        self._ids: OrderedDict[str, _Tracked | None] = OrderedDict()  # part id -> message
        # receipts before their submit_sm_resp, with their acknowledgement and arrival
        self._early: dict[str, list[_Held]] = {}
        self._early_timer: asyncio.TimerHandle | None = None
        self._unknown: list[_Held] = []  # receipts to look up in the store
        self._emitted: list[Receipt] = []  # receipts built by the routing under way
        self._marks: list[tuple[str, str, str | None]] = []  # part outcomes to store
        self._to_save: list[smpp_store.StoredPart] = []  # multipart messages' parts to store
        self._submitting = 0  # submissions under way: their responses may name a receipt
        self._engine: Engine | None = None
        self._purge_at = 0.0  # monotonic time of the next purge of old parts

    # --- lifecycle --------------------------------------------------------------------

    def start(self, sink: ReceiptSink) -> None:
        """Hand what arrives to `sink` from now on."""
        self._handover.start(sink)

    async def drain(self) -> None:
        """Store and answer what the SMSC sent so far (bounded by the response timeout)."""
        try:  # bounded: with the database away, the SMSC sends it all again later
            await asyncio.wait_for(self._handover.drain(), self.options.timeout)
        except TimeoutError:
            log.warning("SMPP %s: stopping before what the SMSC sent was stored", self.name)

    async def close(self) -> None:
        """After the binds are closed: store what is left, then let go of the store."""
        self._resolve_early()
        if self._early_timer is not None:
            self._early_timer.cancel()
            self._early_timer = None
        await self._handover.stop(timeout=self.options.timeout)
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # --- what the submission side says ------------------------------------------------

    def submission_started(self) -> None:
        """A submission is under way: a receipt for an unknown id may be for one of it."""
        self._submitting += 1

    def submission_ended(self) -> None:
        """A submission is answered; once none is, held receipts are looked up elsewhere."""
        self._submitting -= 1
        if not self._submitting:
            self._resolve_early()

    def remember_single(self, ids: list[str]) -> None:
        """`remember` for single-part messages, in bulk (their SMSC ids)."""
        known = self._ids
        early = self._early
        for part_id in ids:
            known[part_id] = None
            if early:
                for held in early.pop(part_id, ()):
                    self._emit(part_id, held.receipt)
                    self._hand(held.ack)
        while len(known) > _REMEMBERED_IDS:
            known.popitem(last=False)

    # --- receipts ---------------------------------------------------------------------

    def remember(self, ids: list[str]) -> None:
        """The SMSC ids of one message's parts, in order, as its submission got them."""
        tracked = _Tracked(ids) if len(ids) > 1 else None
        for part_id in ids:
            self._ids[part_id] = tracked
        while len(self._ids) > _REMEMBERED_IDS:
            self._ids.popitem(last=False)
        if tracked is not None:
            self._to_save.extend(
                smpp_store.StoredPart(part_id, ids[0], index, len(ids), None, None)
                for index, part_id in enumerate(ids, 1)
            )
            self._handover.wake()
        if self._early:
            for part_id in ids:
                for held in self._early.pop(part_id, ()):
                    self._emit_part(held.receipt, tracked)
                    self._hand(held.ack)

    def on_deliver(self, session: SmppSession, pdu: smpp34.DeliverSm, sequence: int) -> None:
        """A deliver_sm: routed now, answered once what it says is stored."""
        ack = functools.partial(session.acknowledge, sequence)
        receipt = parse_receipt(
            esm_class=pdu.esm_class,
            short_message=pdu.short_message,
            tlvs=[(t.tag, t.value) for t in pdu.tlvs],
        )
        if receipt is not None:
            self._route_receipt(receipt, ack)
        elif not pdu.esm_class & 0x3C:  # a plain MO, not a report
            self._handover.put([self._inbound(pdu)], ack)
        else:  # an intermediate report (ENROUTE...) or an unreadable one: nothing to keep
            log.debug("SMPP %s: report without a final outcome: %r", self.name, pdu.short_message)
            ack()

    def _inbound(self, pdu: smpp34.DeliverSm) -> InboundSms:
        """A message a person sent to our number, decoded by its data_coding, as it came."""
        raw = bytes(pdu.short_message or b"")
        for tag, value in ((t.tag, t.value) for t in pdu.tlvs):
            if tag == Tag.MESSAGE_PAYLOAD and not raw:  # long MOs come in message_payload
                raw = bytes(value)
        if pdu.data_coding == 8:
            text = raw.decode("utf-16-be", "replace")
        elif pdu.data_coding in (0, 1):
            try:
                text = decode_gsm(raw)
            except (ValueError, TextoptError):  # not GSM 7-bit after all: keep every byte
                text = raw.decode("latin-1")
        else:
            text = raw.decode("latin-1")
        received = dt.datetime.now(dt.UTC)
        sender, recipient = str(pdu.source_addr or ""), str(pdu.destination_addr or "")
        if pdu.source_addr_ton == 1 and sender.isdigit():  # international: the digits follow +
            sender = "+" + sender
        digest = hashlib.sha256(
            f"{sender}|{recipient}|{text}|{received.isoformat()}".encode("utf-8", "replace")
        ).hexdigest()[:24]
        return InboundSms(
            provider=self.name,
            provider_message_id=f"mo-{digest}",
            sender=sender,
            recipient=recipient,
            text=text,
            received_at=received,
        )

    def _hand(self, ack: Acknowledge | None) -> None:
        """Queue the receipts the routing just built, with the acknowledgement they wait for."""
        emitted, self._emitted = self._emitted, []
        self._handover.put(emitted, ack)

    def _route_receipt(self, receipt: PartReceipt, ack: Acknowledge | None) -> None:
        # Ids are opaque: "0", hex, UUIDs. Guessing other spellings (hex for decimal) would
        # match the wrong message when the SMSC's ids are plain counters.
        if receipt.message_id in self._ids:
            self._emit_part(receipt, self._ids[receipt.message_id])
            self._hand(ack)
            return
        if self._submitting:  # its submit_sm_resp may still come
            self._early.setdefault(receipt.message_id, []).append(
                _Held(receipt, ack, time.monotonic())
            )
            if self._early_timer is None:
                self._early_timer = asyncio.get_running_loop().call_later(
                    self.options.timeout, self._expire_early
                )
            return
        self._unknown.append(_Held(receipt, ack, time.monotonic()))
        self._handover.wake()

    def _expire_early(self) -> None:
        """Receipts held longer than a response can take: their submission timed out."""
        self._early_timer = None
        limit = time.monotonic() - self.options.timeout
        for part_id in [p for p, held in self._early.items() if held[0].since <= limit]:
            self._unknown.extend(self._early.pop(part_id))
        if self._unknown:
            self._handover.wake()
        if self._early:
            self._early_timer = asyncio.get_running_loop().call_later(
                self.options.timeout / 2, self._expire_early
            )

    def _resolve_early(self) -> None:
        """Receipts held for a response that never named them: look them up elsewhere."""
        if self._early:
            for held in self._early.values():
                self._unknown.extend(held)
            self._early.clear()
            self._handover.wake()

    def _emit_part(self, receipt: PartReceipt, tracked: _Tracked | None) -> None:
        if tracked is None:
            self._emit(receipt.message_id, receipt)
            return
        tracked.finals[tracked.ids.index(receipt.message_id) + 1] = receipt
        self._marks.append((receipt.message_id, receipt.stat, receipt.error_code))
        self._emit_if_final(tracked)

    def _emit_if_final(self, tracked: _Tracked) -> None:
        """The message's receipt: failed or expired as soon as one part is; once every part
        is final, unknown if one part's state says neither, else delivered."""
        if tracked.emitted:
            return
        finals = tracked.finals.values()
        failed = [r for r in finals if r.status in (ReceiptStatus.FAILED, ReceiptStatus.EXPIRED)]
        if failed:
            tracked.emitted = True
            self._emit(tracked.key, failed[0], parts=len(tracked.finals), total=tracked.total)
        elif len(tracked.finals) >= tracked.total:
            tracked.emitted = True
            unsure = [r for r in finals if r.status is not ReceiptStatus.DELIVERED]
            outcome = unsure[0] if unsure else next(iter(finals))
            self._emit(tracked.key, outcome, parts=tracked.total, total=tracked.total)

    def _emit(self, key: str, receipt: PartReceipt, *, parts: int = 1, total: int = 1) -> None:
        raw = dict(receipt.raw)
        if total > 1:
            raw.update(part_id=receipt.message_id, parts_final=parts, parts=total)
        self._emitted.append(
            Receipt(
                provider=self.name,
                provider_message_id=key,
                status=receipt.status,
                at=dt.datetime.now(dt.UTC),
                error_code=receipt.error_code,
                error_text=receipt.stat if receipt.status is not ReceiptStatus.DELIVERED else None,
                raw=raw,
            )
        )

    # --- the parts store (multipart messages only) ------------------------------------

    async def _store_parts(self) -> None:
        """Before each batch is handed over: find the parts of receipts not known here,
        route them, and store new parts and part outcomes (the batch's answers wait for it).
        """
        unknown, self._unknown = self._unknown, []
        if unknown:
            try:
                found = await asyncio.to_thread(self._find_parts, [h.receipt for h in unknown])
            except BaseException:
                self._unknown = unknown + self._unknown
                raise
            self._route_found(unknown, found)
        parts, marks = self._to_save, self._marks
        purge_before = None
        if (parts or marks) and time.monotonic() >= self._purge_at:
            # at most hourly, while parts come and go
            self._purge_at = time.monotonic() + _PURGE_EVERY
            keep = dt.timedelta(days=self.options.parts_keep_days)
            purge_before = dt.datetime.now(dt.UTC) - keep
        if not (parts or marks):
            return
        engine = self._parts_engine()

        def work() -> None:
            with session_scope(engine) as session:
                if purge_before is not None:
                    smpp_store.purge_parts(session, account=self.name, before=purge_before)
                smpp_store.save_parts(session, account=self.name, parts=parts)
                smpp_store.mark_parts(session, account=self.name, outcomes=marks)

        self._to_save, self._marks = [], []
        try:
            await asyncio.to_thread(work)
        except BaseException:
            self._to_save, self._marks = parts + self._to_save, marks + self._marks
            raise

    def _parts_engine(self) -> Engine:
        if self._engine is None:
            self._engine = self.options.engine()
        return self._engine

    def _find_parts(self, receipts: list[PartReceipt]) -> dict[str, list[smpp_store.StoredPart]]:
        with session_scope(self._parts_engine()) as session:
            return smpp_store.find_parts(
                session, account=self.name, part_ids=[r.message_id for r in receipts]
            )

    def _route_found(
        self, unknown: list[_Held], found: dict[str, list[smpp_store.StoredPart]]
    ) -> None:
        owner = {p.part_id: p.message_key for stored in found.values() for p in stored}
        for held in unknown:
            receipt = held.receipt
            key = owner.get(receipt.message_id)
            if key is None:
                self._emit(receipt.message_id, receipt)  # single part, or sent long ago
                self._hand(held.ack)
                continue
            tracked = self._ids.get(receipt.message_id)
            if tracked is None:
                stored = sorted(found[key], key=lambda p: p.part_index)
                tracked = _Tracked([p.part_id for p in stored])
                for p in stored:
                    self._ids[p.part_id] = tracked
                    if p.stat is not None:
                        tracked.finals[p.part_index] = receipt_from_stat(
                            p.part_id, p.stat, p.error_code
                        )
            self._emit_part(receipt, tracked)
            self._hand(held.ack)
