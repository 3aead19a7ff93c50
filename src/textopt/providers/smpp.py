"""The SMPP provider: one account, one or more binds, multipart SMS, receipts per message.

A message is cut into parts by the compose module (GSM-7, packed or not, or UCS-2), sent with
a concatenation UDH or SAR TLVs, its first part first and the others once that one is taken.
Its provider id is its first part's SMSC id. What the SMSC sends back (receipts gathered per
message, MOs) is `smpp_receiving`, which this module tells of every part id it gets. The
options are documented in docs/providers.md.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from textopt.compose.parts import Encoding, Part, split_parts
from textopt.errors import ProviderError, TextoptError
from textopt.providers.base import (
    OutboundMessage,
    ReceiptSink,
    SubmitOutcome,
    SubmitResult,
    register_provider,
)
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
from textopt.providers.smpp_receiving import SmppReceiving
from textopt.providers.smpp_session import BatchAnswer, SmppSession

__all__ = ["AdaptiveRate", "SmppOptions", "SmppProvider"]

_PART_RETRIES = 5  # a later part refused for a while is retried here: the first is out
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


@dataclass(frozen=True, slots=True)
class _PartAnswer:
    status: int  # SMPP command_status, or -1 when no response came
    message_id: str = ""
    code: str | None = None  # our code when no response came (timeout, connection_lost)
    text: str | None = None


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
        self.receiving = SmppReceiving(name, self.options)
        self.binds = [
            Bind(self.options, index, on_deliver=self.receiving.on_deliver)
            for index in range(self.options.binds)
        ]
        self._reference = 0
        # single-part encodings: (text, sender) -> (PDU body before and after the
        # destination), or None when the message takes the per-message way (multipart...)
        self._templates: dict[tuple[str, str | None], tuple[bytes, bytes] | None] = {}

    # --- lifecycle --------------------------------------------------------------------

    async def start(self, on_receipt: ReceiptSink) -> None:
        """Open every bind; a refused bind or an unreachable SMSC raises at once."""
        self.receiving.start(on_receipt)
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
            await self.receiving.close()
            raise error

    async def stop(self) -> None:
        """Store and answer what the SMSC sent, unbind cleanly, store what is left.

        What arrives while unbinding is stored but can no longer be answered: the SMSC
        sends it again later, and storing it twice changes nothing.
        """
        await self.receiving.drain()
        await asyncio.gather(*(bind.close() for bind in self.binds))
        await self.receiving.close()

    # --- submitting -------------------------------------------------------------------

    async def submit(self, messages: Sequence[OutboundMessage]) -> list[SubmitResult]:
        """Send every message through the binds' windows; one result each, in order.

        Single-part messages, while the SMSC is not throttling us, go as one batch per
        bind (`SmppSession.send_batch`: pre-encoded PDUs, no task per message); the others,
        and those a throttle stopped before they were written, go one by one, paced.
        """
        self.receiving.submission_started()
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
            self.receiving.submission_ended()

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
        self.receiving.remember_single(accepted)

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
        self.receiving.remember(ids)
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
