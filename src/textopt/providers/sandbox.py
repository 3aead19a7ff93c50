"""The sandbox provider: an in-process SMSC for the demo and the tests.

It behaves like a real network: it accepts and returns ids, sends delivery receipts after a
delay with a mix of outcomes, throttles, and can drop its connection. Every outcome is
decided from a hash of the message's idempotency key and the seed, so a run is repeatable.

Options (the provider account's table in the configuration):

| option | meaning | default |
| --- | --- | --- |
| `rate` | segments per second the account allows | 200 |
| `receipt_delay` | seconds before a receipt | 0.05 |
| `failure_rate` | share of accepted messages whose receipt says failed | 0.03 |
| `expiry_rate` | share whose receipt says expired | 0.01 |
| `reject_prefixes` | numbers starting so are refused at submit (permanent) | [] |
| `fail_prefixes` | numbers starting so get a failed receipt | [] |
| `throttle_every` | every Nth submission is throttled (temporary) | 0 (never) |
| `drop_after` | the connection drops after N acceptances (once) | 0 (never) |
| `journal` | a file where each acceptance is appended as a JSON line | none |
| `submit_latency` | seconds between accepting a batch and answering (a slow link) | 0 |
| `seed` | seed of the outcome mix | 0 |
| `outage_after` | after N acceptances the SMSC is down until `restore()` (0: never) | 0 |
| `outage_mode` | `refuse`: no connection; `no_answer`: takes messages, never answers | `refuse` |

`deliver_mo` simulates a person texting one of our numbers (an MO), for the demo and tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from textopt.providers.base import (
    OutboundMessage,
    Receipt,
    ReceiptSink,
    ReceiptStatus,
    SubmitOutcome,
    SubmitResult,
    register_provider,
)
from textopt.providers.codes import CONNECT_FAILED, NO_ANSWER
from textopt.providers.handover import Handover
from textopt.providers.mo import InboundSms

__all__ = ["SandboxProvider"]

# Network error codes of failed receipts, as SMSCs report them (GSM MAP causes).
_FAILURES = (
    ("001", "unknown subscriber"),
    ("027", "absent subscriber"),
    ("013", "call barred"),
    ("031", "subscriber busy for MT SMS"),
)


@register_provider("sandbox")
class SandboxProvider:
    """An SMSC simulated in memory; see the module docstring for its options."""

    instances: ClassVar[dict[str, SandboxProvider]] = {}
    _mo_ids: ClassVar[itertools.count[int]] = itertools.count(1)
    pipelined = False  # answers at once: a second batch in flight would gain nothing

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        self.name = name
        self.channel = str(options.get("channel", "sms"))
        self.rate = float(options.get("rate", 200))
        self.receipt_delay = float(options.get("receipt_delay", 0.05))
        self.failure_rate = float(options.get("failure_rate", 0.03))
        self.expiry_rate = float(options.get("expiry_rate", 0.01))
        self.reject_prefixes = tuple(options.get("reject_prefixes", ()))
        self.fail_prefixes = tuple(options.get("fail_prefixes", ()))
        self.throttle_every = int(options.get("throttle_every", 0))
        self.drop_after = int(options.get("drop_after", 0))
        journal = options.get("journal")
        self.journal = Path(journal) if journal else None
        self.seed = str(options.get("seed", 0))
        self.submit_latency = float(options.get("submit_latency", 0))
        self.outage_after = int(options.get("outage_after", 0))
        self.outage_mode = str(options.get("outage_mode", "refuse"))
        self.down = False
        self.number = str(options.get("number", "+33700000000"))  # our number, for MOs
        self.accepted: dict[str, str] = {}  # idempotency key -> provider id
        self.submissions = 0
        self.acceptances = 0  # counts a resubmitted key again: a real SMSC would send twice
        self._dropped = False
        self._handover = Handover(f"sandbox {name}")
        self._started = False
        self._pending: set[asyncio.Task[None]] = set()
        SandboxProvider.instances[name] = self

    async def start(self, on_receipt: ReceiptSink) -> None:
        """Ready at once: there is no network."""
        self._handover.start(on_receipt)
        self._started = True

    async def stop(self) -> None:
        """Deliver the receipts still pending, then stop."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self._handover.stop()

    def _draw(self, key: str) -> float:
        digest = hashlib.sha256(f"{self.seed}:{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    async def submit(self, messages: Sequence[OutboundMessage]) -> list[SubmitResult]:
        """Accept, refuse, throttle or drop each message as configured."""
        results = [self._submit_one(message) for message in messages]
        if self.submit_latency:
            await asyncio.sleep(self.submit_latency)  # accepted, but the answer is late
        return results

    def restore(self) -> None:
        """End a simulated outage: the SMSC answers again."""
        self.down = False
        self.outage_after = 0

    def deliver_mo(
        self,
        *,
        sender: str,
        text: str,
        recipient: str | None = None,
        provider_message_id: str | None = None,
        received_at: dt.datetime | None = None,
    ) -> InboundSms:
        """A message a person sends to our number, as the SMSC would hand it over."""
        at = received_at or dt.datetime.now(dt.UTC)
        return InboundSms(
            provider=self.name,
            provider_message_id=provider_message_id
            or f"sbx-mo-{at.timestamp():.0f}-{next(SandboxProvider._mo_ids)}",
            sender=sender,
            recipient=recipient or self.number,
            text=text,
            received_at=at,
        )

    def _submit_one(self, message: OutboundMessage) -> SubmitResult:
        self.submissions += 1
        if self.outage_after and self.acceptances >= self.outage_after:
            self.down = True
        if self.down:
            return self._outage(message)
        if self.drop_after and not self._dropped and self.acceptances >= self.drop_after:
            self._dropped = True
        if self._dropped and self.submissions % 50 != 0:
            return SubmitResult(
                message.message_id,
                SubmitOutcome.TEMPORARY,
                error_code="connection_lost",
                error_text="the connection to the SMSC dropped",
            )
        self._dropped = False
        if self.throttle_every and self.submissions % self.throttle_every == 0:
            return SubmitResult(
                message.message_id,
                SubmitOutcome.TEMPORARY,
                error_code="0x58",
                error_text="throttled (ESME_RTHROTTLED)",
                throttled=True,
            )
        if message.recipient.startswith(self.reject_prefixes) and self.reject_prefixes:
            return SubmitResult(
                message.message_id,
                SubmitOutcome.PERMANENT,
                error_code="0x0B",
                error_text="invalid destination address (ESME_RINVDSTADR)",
            )
        provider_id = f"sbx-{hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:16]}"
        self.accepted[message.idempotency_key] = provider_id
        self.acceptances += 1
        self._journal(message, provider_id)
        self._schedule_receipt(message, provider_id)
        return SubmitResult(message.message_id, SubmitOutcome.ACCEPTED, provider_id)

    def _outage(self, message: OutboundMessage) -> SubmitResult:
        if self.outage_mode == "no_answer":
            # It took the message (journaled: it would reach the handset) but the answer
            # never came back: the sender cannot know whether it went.
            self._journal(message, "sbx-lost")
            return SubmitResult(
                message.message_id,
                SubmitOutcome.TEMPORARY,
                error_code=NO_ANSWER,
                error_text="no answer from the SMSC",
            )
        return SubmitResult(
            message.message_id,
            SubmitOutcome.TEMPORARY,
            error_code=CONNECT_FAILED,
            error_text="cannot connect to the SMSC",
        )

    def _journal(self, message: OutboundMessage, provider_id: str) -> None:
        if self.journal is None:
            return
        with self.journal.open("a", encoding="utf-8") as handle:
            line = {
                "key": message.idempotency_key,
                "to": message.recipient,
                "id": provider_id,
                "segments": message.segments,
                "account": self.name,
            }
            handle.write(json.dumps(line) + "\n")

    def _schedule_receipt(self, message: OutboundMessage, provider_id: str) -> None:
        if not self._started:
            return
        draw = self._draw(message.idempotency_key)
        if message.recipient.startswith(self.fail_prefixes) and self.fail_prefixes:
            status, code, text = ReceiptStatus.FAILED, *_FAILURES[0]
        elif draw < self.failure_rate:
            code, text = _FAILURES[int(draw / self.failure_rate * len(_FAILURES)) % 4]
            status = ReceiptStatus.FAILED
        elif draw < self.failure_rate + self.expiry_rate:
            status, code, text = ReceiptStatus.EXPIRED, "expired", "validity period elapsed"
        else:
            status, code, text = ReceiptStatus.DELIVERED, None, None
        receipt = Receipt(
            provider=self.name,
            provider_message_id=provider_id,
            status=status,
            at=dt.datetime.now(dt.UTC),
            error_code=code,
            error_text=text,
        )
        task = asyncio.get_running_loop().create_task(self._deliver(receipt))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(self, receipt: Receipt) -> None:
        await asyncio.sleep(self.receipt_delay)
        self._handover.put([receipt])  # stored with the others due now, in one batch
