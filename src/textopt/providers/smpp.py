"""The SMPP provider: one account, one or more binds, multipart SMS, receipts per message.

A message is cut into parts by the compose module (GSM-7, packed or not, or UCS-2), sent with
a concatenation UDH or SAR TLVs, its first part first and the others once that one is taken.
The message's provider id is its first part's SMSC id; the other parts' ids point to it, in
memory and, for multipart messages, in the `sms_parts` table (a receipt may come after a
restart). One `Receipt` per message is emitted once every part is final: delivered when all
parts are, failed or expired as soon as one is. A receipt that overtakes its `submit_sm_resp`
is held until the response names its part (at most the response timeout).

Every `deliver_sm` (receipt or MO) is answered only once what it says is stored: the parts'
outcomes here, the receipts and MOs by the dispatcher's sink, in batches (`Handover`). The
options are documented in docs/providers.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import smpp34
from sqlalchemy import Engine

from textopt.compose import decode_gsm
from textopt.compose.segments import Encoding, Part, split_parts
from textopt.db.engine import session_scope
from textopt.errors import ProviderError, TextoptError
from textopt.providers import smpp_store
from textopt.providers.base import (
    OutboundMessage,
    Receipt,
    ReceiptSink,
    ReceiptStatus,
    SubmitOutcome,
    SubmitResult,
    register_provider,
)
from textopt.providers.handover import Acknowledge, Handover
from textopt.providers.mo import InboundSms
from textopt.providers.smpp_binds import Bind, SmppOptions
from textopt.providers.smpp_pdu import (
    HEADER,
    TEMPORARY_STATUSES,
    THROTTLE_STATUSES,
    Tag,
    build_submit_sm,
    pack_septets,
    read_cstring,
    status_name,
)
from textopt.providers.smpp_receipts import (
    PartReceipt,
    parse_receipt,
    receipt_from_stat,
)
from textopt.providers.smpp_session import BatchAnswer, SmppSession

__all__ = ["AdaptiveRate", "SmppOptions", "SmppProvider"]

log = logging.getLogger(__name__)

_PART_RETRIES = 5  # a later part refused for a while is retried here: the first is out
_PURGE_EVERY = 3600.0  # seconds between purges of multipart parts past `parts_keep_days`
_REMEMBERED_IDS = 500_000  # part ids kept in memory to match receipts (oldest forgotten)
_TEMPLATES = 4096  # single-part submit_sm encodings kept, by (text, sender)
_MAX_DESTINATION = 20  # destination_addr is a C string of at most 21 octets


class AdaptiveRate:
    """Additive-increase, multiplicative-decrease pacing of one account's submits.

    Unpaced while the SMSC is happy (the dispatcher's shared bucket keeps the account's
    rate); a throttle halves the rate actually achieved and pauses; every quiet half second
    raises it by a quarter until it is back at the ceiling, where pacing stops again.
    """

    def __init__(self, ceiling: float, *, pause: float = 0.2) -> None:
        self.ceiling = max(ceiling, 1.0)
        self.current = self.ceiling
        self.pause = pause
        self.cuts = 0
        self._next = 0.0
        self._changed = time.monotonic()
        self._count = 0
        self._count_since = time.monotonic()

    @property
    def paced(self) -> bool:
        """Whether submits are slowed below the ceiling."""
        return self.current < self.ceiling

    def _recover(self, now: float) -> None:
        steps = int((now - self._changed) / 0.5)
        if steps > 0 and self.paced:
            self.current = min(self.ceiling, self.current * 1.25**steps)
            self._changed += steps * 0.5

    async def wait(self) -> None:
        """Wait for this submit's turn."""
        now = time.monotonic()
        self._count += 1
        if now - self._count_since > 1.0:
            self._count, self._count_since = 1, now
        if not self.paced:
            return
        self._recover(now)
        slot = max(now, self._next)
        self._next = slot + 1.0 / self.current
        if slot > now:
            await asyncio.sleep(slot - now)

    def admit(self) -> bool:
        """Count one submit that goes now, unpaced; False (not counted) once pacing starts."""
        if self.current < self.ceiling:
            return False
        now = time.monotonic()
        self._count += 1
        if now - self._count_since > 1.0:
            self._count, self._count_since = 1, now
        return True

    def throttled(self) -> None:
        """The SMSC said ESME_RTHROTTLED or ESME_RMSGQFUL: slow down (once per pause)."""
        now = time.monotonic()
        if now - self._changed < self.pause and self.paced:
            return  # the rest of a window sent before the cut
        achieved = self._count / max(now - self._count_since, 0.1)
        self.current = max(1.0, min(self.current, achieved) / 2)
        self.cuts += 1
        self._changed = now
        self._next = now + self.pause


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
class _PartAnswer:
    status: int  # SMPP command_status, or -1 when no response came
    message_id: str = ""
    code: str | None = None  # our code when no response came (timeout, connection_lost)
    text: str | None = None


@dataclass(frozen=True, slots=True)
class _Held:
    """A receipt waiting for its message to be known, and the answer its PDU waits for."""

    receipt: PartReceipt
    ack: Acknowledge | None
    since: float  # monotonic time of arrival


@register_provider("smpp")
class SmppProvider:
    """An SMPP account: see the module docstring and docs/providers.md."""

    pipelined = True  # batches queue in the binds' windows: several may be out

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        self.name = name
        self.channel = "sms"
        self.options = SmppOptions.parse(name, options)
        self.rate = self.options.rate
        self.pacer = AdaptiveRate(self.options.rate)
        self.binds = [
            Bind(self.options, index, on_deliver=self._on_deliver)
            for index in range(self.options.binds)
        ]
        self._handover = Handover(f"SMPP {name}", prepare=self._store_parts)
        self._ids: OrderedDict[str, _Tracked | None] = OrderedDict()  # part id -> message
        # receipts before their submit_sm_resp, with their acknowledgement and arrival
        self._early: dict[str, list[_Held]] = {}
        self._early_timer: asyncio.TimerHandle | None = None
        self._unknown: list[_Held] = []  # receipts to look up in the store
        self._emitted: list[Receipt] = []  # receipts built by the routing under way
        self._marks: list[tuple[str, str, str | None]] = []  # part outcomes to store
        self._to_save: list[smpp_store.StoredPart] = []  # multipart messages' parts to store
        self._in_flight = 0
        self._reference = 0
        self._engine: Engine | None = None
        self._purge_at = 0.0  # monotonic time of the next purge of old parts
        # single-part encodings: (text, sender) -> (PDU body before and after the
        # destination), or None when the message takes the per-message way (multipart...)
        self._templates: dict[tuple[str, str | None], tuple[bytes, bytes] | None] = {}

    # --- lifecycle --------------------------------------------------------------------

    async def start(self, on_receipt: ReceiptSink) -> None:
        """Open every bind; a refused bind or an unreachable SMSC raises at once."""
        self._handover.start(on_receipt)
        results = await asyncio.gather(
            *(bind.open_first() for bind in self.binds), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await asyncio.gather(*(bind.close() for bind in self.binds))
            error = errors[0]
            if isinstance(error, ProviderError):
                raise ProviderError(
                    f"provider account {self.name!r}: {error.message}",
                    temporary=error.temporary,
                    provider_code=error.provider_code,
                ) from None
            await self._handover.stop()
            raise error

    async def stop(self) -> None:
        """Store and answer what the SMSC sent, unbind cleanly, store what is left.

        What arrives while unbinding is stored but can no longer be answered: the SMSC
        sends it again later, and storing it twice changes nothing.
        """
        try:  # bounded: with the database away, the SMSC sends it all again later
            await asyncio.wait_for(self._handover.drain(), self.options.timeout)
        except TimeoutError:
            log.warning("SMPP %s: stopping before what the SMSC sent was stored", self.name)
        await asyncio.gather(*(bind.close() for bind in self.binds))
        self._resolve_early()
        if self._early_timer is not None:
            self._early_timer.cancel()
            self._early_timer = None
        await self._handover.stop(timeout=self.options.timeout)
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # --- submitting -------------------------------------------------------------------

    async def submit(self, messages: Sequence[OutboundMessage]) -> list[SubmitResult]:
        """Send every message through the binds' windows; one result each, in order.

        Single-part messages, while the SMSC is not throttling us, go as one batch per
        bind (`SmppSession.send_batch`: pre-encoded PDUs, no task per message); the others,
        and those a throttle stopped before they were written, go one by one, paced.
        """
        self._in_flight += 1
        try:
            results: list[SubmitResult | None] = [None] * len(messages)
            await self._submit_batch(messages, results)
            slow = [i for i, result in enumerate(results) if result is None]
            if slow:
                answers = await asyncio.gather(*(self._submit_message(messages[i]) for i in slow))
                for i, result in zip(slow, answers, strict=True):
                    results[i] = result
            return [r for r in results if r is not None]
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._resolve_early()

    async def _submit_batch(
        self, messages: Sequence[OutboundMessage], results: list[SubmitResult | None]
    ) -> None:
        """The fast way for single-part messages; leaves None where the slow way must go."""
        senders = [b.sender for b in self.binds if b.ready and b.sender is not None]
        if not senders or self.pacer.paced:
            return
        indexes: list[int] = []
        pdus: list[bytes] = []
        templates = self._templates
        for index, message in enumerate(messages):
            key = (message.body, message.sender)
            template = templates[key] if key in templates else self._template(message)
            destination = message.recipient.removeprefix("+")
            if (
                template is None
                or not destination
                or len(destination) > _MAX_DESTINATION
                or not destination.isascii()
            ):
                continue
            before, after = template
            length = 16 + len(before) + len(destination) + 1 + len(after)
            pdus.append(
                HEADER.pack(length, 4, 0, 0) + before + destination.encode() + b"\0" + after
            )
            indexes.append(index)
        if not pdus:
            return
        pacer = self.pacer
        share = -(-len(pdus) // len(senders))
        futures = [
            session.send_batch(
                pdus[start : start + share], gate=pacer.admit, on_refusal=self._on_refusal
            )
            for start, session in zip(range(0, len(pdus), share), senders, strict=False)
        ]
        answers: list[BatchAnswer] = []
        for chunk in await asyncio.gather(*futures):
            answers.extend(chunk)
        accepted: list[str] = []
        for index, answer in zip(indexes, answers, strict=True):
            message = messages[index]
            if answer is None:
                continue  # not written: the slow way sends it
            if type(answer) is tuple:
                status, body = answer
                if status == 0:
                    provider_id = read_cstring(body)
                    accepted.append(provider_id)
                    results[index] = SubmitResult(
                        message.message_id, SubmitOutcome.ACCEPTED, provider_id
                    )
                else:
                    results[index] = _result_of(message, _PartAnswer(status))
            else:
                assert isinstance(answer, ProviderError)
                results[index] = _temporary(
                    message, answer.provider_code or "connection_lost", answer.message
                )
        self._remember_single(accepted)

    def _on_refusal(self, status: int) -> None:
        if status in THROTTLE_STATUSES:
            self.pacer.throttled()

    def _template(self, message: OutboundMessage) -> tuple[bytes, bytes] | None:
        """The single-part PDU body around the destination, for this text and sender."""
        if len(self._templates) >= _TEMPLATES:
            self._templates.clear()
        key = (message.body, message.sender)
        template: tuple[bytes, bytes] | None = None
        try:
            parts = split_parts(message.body)
        except TextoptError:
            parts = ()
        if len(parts) == 1:
            source, source_ton, source_npi = self.options.source_for(message.sender)
            fields = self.options.submit_fields(source_ton, source_npi)
            sample = "33600000000"
            pdu = self._encode(
                OutboundMessage(0, "", "+" + sample, message.body, sender=message.sender),
                parts[0],
                0,
            )
            start = 16 + len(fields.service_type.encode()) + 1 + 2 + len(source.encode()) + 1 + 2
            end = start + len(sample) + 1
            if pdu[start:end] == sample.encode() + b"\0":  # else: the slow way, always
                template = (pdu[16:start], pdu[end:])
        self._templates[key] = template
        return template

    def _remember_single(self, ids: list[str]) -> None:
        """`_remember` for single-part messages, in bulk."""
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

    def _next_reference(self) -> int:
        self._reference = (self._reference + 1) % 0x10000
        return self._reference

    async def _submit_message(self, message: OutboundMessage) -> SubmitResult:
        try:
            parts = split_parts(message.body)
        except TextoptError as exc:
            return SubmitResult(
                message.message_id,
                SubmitOutcome.PERMANENT,
                error_code="invalid_text",
                error_text=exc.message,
            )
        if not parts:
            return SubmitResult(
                message.message_id,
                SubmitOutcome.PERMANENT,
                error_code="empty",
                error_text="the message has no text",
            )
        bind = await self._ready_bind()
        if bind is None:
            return _temporary(message, "not_connected", "no SMPP bind is connected")
        reference = self._next_reference() if len(parts) > 1 else 0
        first = await self._submit_part(bind.sender, message, parts[0], reference)
        if first.status != 0:
            return _result_of(message, first)
        ids = [first.message_id]
        for part in parts[1:]:
            answer = await self._submit_later_part(bind, message, part, reference)
            if answer.status != 0:
                result = _result_of(message, answer)
                text = f"part {part.index} of {part.total}: {result.error_text}"
                return SubmitResult(
                    message.message_id,
                    result.outcome,
                    error_code=result.error_code,
                    error_text=text,
                    throttled=result.throttled,
                )
            ids.append(answer.message_id)
        self._remember(ids)
        return SubmitResult(message.message_id, SubmitOutcome.ACCEPTED, ids[0])

    async def _ready_bind(self) -> Bind | None:
        ready = [b for b in self.binds if b.ready]
        if ready:
            return min(ready, key=lambda b: b.sender.in_flight if b.sender else 0)
        waits = [asyncio.ensure_future(b.wait_ready()) for b in self.binds]
        _done, pending = await asyncio.wait(
            waits, timeout=self.options.timeout, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        ready = [b for b in self.binds if b.ready]
        return ready[0] if ready else None

    async def _submit_later_part(
        self, bind: Bind, message: OutboundMessage, part: Part, reference: int
    ) -> _PartAnswer:
        answer = _PartAnswer(-1, code="not_connected")
        for _attempt in range(_PART_RETRIES):
            answer = await self._submit_part(bind.sender, message, part, reference)
            if answer.status not in TEMPORARY_STATUSES:
                return answer
            await asyncio.sleep(self.pacer.pause)
        return answer

    async def _submit_part(
        self, session: SmppSession | None, message: OutboundMessage, part: Part, reference: int
    ) -> _PartAnswer:
        if session is None or session.closed:
            return _PartAnswer(-1, code="not_connected", text="the SMPP bind is reconnecting")
        await self.pacer.wait()
        pdu = self._encode(message, part, reference)
        try:
            response = await session.request(pdu)
        except ProviderError as exc:
            return _PartAnswer(-1, code=exc.provider_code, text=exc.message)
        if response.status in THROTTLE_STATUSES:
            self.pacer.throttled()
        if response.status:
            return _PartAnswer(response.status)
        return _PartAnswer(0, response.message_id())

    def _encode(self, message: OutboundMessage, part: Part, reference: int) -> bytes:
        options = self.options
        udh = b""
        tlvs: list[tuple[int, bytes]] = []
        if part.total > 1 and options.multipart == "sar":
            tlvs = [
                (Tag.SAR_MSG_REF_NUM, reference.to_bytes(2, "big")),
                (Tag.SAR_TOTAL_SEGMENTS, bytes((part.total,))),
                (Tag.SAR_SEGMENT_SEQNUM, bytes((part.index,))),
            ]
        elif part.total > 1:
            udh = bytes((0x05, 0x00, 0x03, reference & 0xFF, part.total, part.index))
        if part.encoding is Encoding.GSM7:
            data_coding = 0
            septets = part.payload()
            if options.gsm_packing:
                fill = (7 - len(udh) * 8 % 7) % 7
                body = udh + pack_septets(septets, fill_bits=fill)
            else:
                body = udh + septets
        else:
            data_coding = 8
            body = udh + part.payload()
        source, source_ton, source_npi = options.source_for(message.sender)
        destination = message.recipient.removeprefix("+")
        return build_submit_sm(
            options.submit_fields(source_ton, source_npi),
            source=source,
            destination=destination,
            short_message=body,
            data_coding=data_coding,
            esm_class=0x40 if udh else 0,
            tlvs=tlvs,
        )

    # --- receipts ---------------------------------------------------------------------

    def _remember(self, ids: list[str]) -> None:
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

    def _on_deliver(self, session: SmppSession, pdu: smpp34.DeliverSm, sequence: int) -> None:
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
        if self._in_flight:  # its submit_sm_resp may still come
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


def _temporary(message: OutboundMessage, code: str, text: str) -> SubmitResult:
    # "not_connected": nothing was written, a retry cannot duplicate; the others may have
    # reached the SMSC before the link or the answer was lost.
    return SubmitResult(
        message.message_id,
        SubmitOutcome.TEMPORARY,
        error_code=code,
        error_text=text,
        ambiguous=code != "not_connected",
    )


def _result_of(message: OutboundMessage, answer: _PartAnswer) -> SubmitResult:
    if answer.status < 0:
        return _temporary(message, answer.code or "connection_lost", answer.text or "")
    name = status_name(answer.status)
    code = f"0x{answer.status:02X}"
    if answer.status in TEMPORARY_STATUSES:
        return SubmitResult(
            message.message_id,
            SubmitOutcome.TEMPORARY,
            error_code=code,
            error_text=f"the SMSC answered {name}",
            throttled=answer.status in THROTTLE_STATUSES,
        )
    return SubmitResult(
        message.message_id,
        SubmitOutcome.PERMANENT,
        error_code=code,
        error_text=f"the SMSC refused it: {name}",
    )
