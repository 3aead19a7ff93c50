"""One SMPP session (an ESME bind) on asyncio: bind, a send window, keep-alive, unbind.

Requests are pipelined: up to `window` wait for their response at once, each matched by
sequence number and failed on its own timeout, so throughput follows the window rather
than the round trip. Inbound `deliver_sm` are handed to a callback with their sequence
number, and answered (`acknowledge`) only once the caller has stored what they say.
A broken stream (a length that cannot be a PDU, a closed socket, a keep-alive left
unanswered) closes the session and fails what is in flight with `connection_lost`; the
provider above reconnects. Errors are `ProviderError`s carrying the SMPP status name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import smpp34

from textopt.errors import ProviderError
from textopt.providers.smpp_pdu import (
    HEADER,
    MAX_PDU_LENGTH,
    Command,
    bind_body,
    build_pdu,
    read_cstring,
    status_name,
    with_sequence,
)

__all__ = ["BatchAnswer", "BindMode", "Response", "SessionConfig", "SmppSession"]

log = logging.getLogger(__name__)

#: Linux's "acknowledge now" socket option (None elsewhere): see `SmppSession._ack_now`.
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)

_BIND_COMMANDS = {
    "transceiver": Command.BIND_TRANSCEIVER,
    "transmitter": Command.BIND_TRANSMITTER,
    "receiver": Command.BIND_RECEIVER,
}


class BindMode(StrEnum):
    """How an account binds."""

    TRANSCEIVER = "transceiver"  # one session sends and receives
    TRANSMITTER_RECEIVER = "transmitter+receiver"  # a transmitter and a receiver per bind


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """Where and how one session connects."""

    host: str
    port: int
    system_id: str
    password: str = field(repr=False)
    system_type: str = ""
    window: int = 10
    timeout: float = 10.0  # seconds for a response, and for connect + bind
    enquire_link: float = 30.0  # seconds between keep-alives (0: never)

    def where(self) -> str:
        """`host:port` for error messages."""
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Response:
    """A response PDU to one of our requests."""

    command: int
    status: int
    body: bytes

    def message_id(self) -> str:
        """The message_id C string of a submit_sm_resp (empty when refused)."""
        return read_cstring(self.body)


#: One answer of `send_batch`: (command_status, response body); a `ProviderError` when no
#: answer came (timeout, connection lost); None when the PDU was never written (the gate
#: closed, or the session was closed before its turn).
BatchAnswer = tuple[int, bytes] | ProviderError | None


class _Batch:
    """PDUs sent with `send_batch`: their answers, and the future resolved with the last."""

    __slots__ = ("answers", "future", "gate", "left", "on_refusal")

    def __init__(
        self,
        size: int,
        future: asyncio.Future[list[BatchAnswer]],
        gate: Callable[[], bool],
        on_refusal: Callable[[int], None] | None,
    ) -> None:
        self.answers: list[BatchAnswer] = [None] * size
        self.left = size
        self.future = future
        self.gate = gate
        self.on_refusal = on_refusal

    def answer(self, index: int, value: BatchAnswer) -> None:
        if self.on_refusal is not None and type(value) is tuple and value[0]:
            self.on_refusal(value[0])
        self.answers[index] = value
        self.left -= 1
        if not self.left and not self.future.done():
            self.future.set_result(self.answers)


#: Called with each deliver_sm and its sequence number; the PDU is answered by a later
#: `acknowledge(sequence)` (or at once, when the callback raises).
DeliverCallback = Callable[["SmppSession", smpp34.DeliverSm, int], None]
LostCallback = Callable[["SmppSession"], None]


class SmppSession(asyncio.Protocol):
    """An ESME session; `open` binds it, `request` sends within the window, `close` unbinds."""

    def __init__(
        self,
        config: SessionConfig,
        *,
        kind: str,
        on_deliver: DeliverCallback | None = None,
        on_lost: LostCallback | None = None,
        label: str = "",
    ) -> None:
        self.config = config
        self.kind = kind  # transceiver | transmitter | receiver
        self.label = label or kind
        self.on_deliver = on_deliver
        self.on_lost = on_lost
        self.bound = False
        self.closed = False
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        # by sequence: (future, timer) of a `request`, or (batch, index) of a `send_batch` PDU
        self._pending: dict[int, tuple[Any, Any]] = {}
        self._sequence = 0
        # The window: free slots, `request` callers waiting for one (served first), and
        # `send_batch` PDUs waiting for one (sent as answers free slots, no task each).
        self._slots = max(config.window, 1)
        self._slot_waiters: deque[asyncio.Future[None]] = deque()
        self._backlog: deque[tuple[_Batch, int, bytes]] = deque()
        # `send_batch` PDUs by deadline (one timeout for all): one timer, not one per PDU
        self._deadlines: deque[tuple[float, int]] = deque()
        self._sweeper: asyncio.TimerHandle | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._write_paused: asyncio.Future[None] | None = None
        self._outgoing: list[bytes] = []
        self._socket: Any = None

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._socket = transport.get_extra_info("socket")

    def connection_lost(self, exc: Exception | None) -> None:
        """Fail everything in flight; tell the provider unless we closed on purpose."""
        was_open = not self.closed
        self._shut(reason="connection_lost", text=f"the connection to {self.config.where()} closed")
        if was_open and self.on_lost is not None:
            self.on_lost(self)

    def pause_writing(self) -> None:
        """The socket buffer is full: requests wait (back-pressure)."""
        if self._write_paused is None:
            self._write_paused = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        """The socket drained."""
        if self._write_paused is not None:
            if not self._write_paused.done():
                self._write_paused.set_result(None)
            self._write_paused = None
        while self._backlog and self._slots > 0 and self._write_paused is None:
            self._slots -= 1
            self._send_next()

    def data_received(self, data: bytes) -> None:
        """Cut the stream into PDUs and handle each."""
        buffer = self._buffer
        buffer += data
        offset = 0
        size = len(buffer)
        while size - offset >= 16:
            length, command, status, sequence = HEADER.unpack_from(buffer, offset)
            if length < 16 or length > MAX_PDU_LENGTH:
                log.warning(
                    "SMPP %s (%s): PDU length %d cannot be valid; closing",
                    self.config.where(),
                    self.label,
                    length,
                )
                del buffer[:]
                self._abort()
                return
            if size - offset < length:
                break
            body = bytes(buffer[offset + 16 : offset + length])
            pdu = bytes(buffer[offset : offset + length]) if command == Command.DELIVER_SM else b""
            offset += length
            self._handle(command, status, sequence, body, pdu)
        del buffer[:offset]
        if self._pending and not self._outgoing:
            self._ack_now()

    def _ack_now(self) -> None:
        """Have the kernel acknowledge what was just read at once, not up to 40 ms later.

        An SMSC that writes with Nagle's algorithm (node's default, and many servers') holds
        its next responses until our acknowledgement arrives. While we write, the ACK
        travels with our PDUs; when we read and have nothing to write (a batch's last
        answers, a window refilled later), the delayed ACK would stall the window for a
        delayed-ACK timeout each time. Linux forgets the option after each ACK, hence the
        call per read.
        """
        if _QUICKACK is not None and self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    # --- PDUs in ----------------------------------------------------------------------

    def _handle(self, command: int, status: int, sequence: int, body: bytes, pdu: bytes) -> None:
        if command & 0x80000000:
            entry = self._pending.pop(sequence, None)
            if entry is None:
                return  # late, after its timeout: the provider already answered
            owner, detail = entry
            if type(owner) is _Batch:
                owner.answer(detail, (status, body))
            else:
                detail.cancel()
                if not owner.done():
                    owner.set_result(Response(command, status, body))
            self._release()
            return
        if command == Command.DELIVER_SM:
            self._deliver(pdu, sequence)
        elif command == Command.ENQUIRE_LINK:
            self._write(build_pdu(Command.ENQUIRE_LINK_RESP, sequence))
        elif command == Command.UNBIND:
            self._write(build_pdu(Command.UNBIND_RESP, sequence))
            log.warning("SMPP %s (%s): the SMSC unbound us", self.config.where(), self.label)
            self._abort()
        elif command == Command.ALERT_NOTIFICATION:
            pass  # no response is defined
        else:
            self._write(build_pdu(Command.GENERIC_NACK, sequence, status=0x03))  # RINVCMDID

    def _deliver(self, pdu: bytes, sequence: int) -> None:
        if self.on_deliver is None:  # a transmitter is never sent one; answer and drop it
            self.acknowledge(sequence)
            return
        try:
            decoded = smpp34.decode(pdu)
            if not isinstance(decoded, smpp34.DeliverSm):
                raise smpp34.SmppError("not a deliver_sm")
        except Exception as exc:
            # Answered anyway: a PDU nobody can read would be sent again forever. Its bytes
            # are logged for a person to look at.
            log.warning(
                "SMPP %s: unreadable deliver_sm skipped (%s): %s",
                self.config.where(),
                exc,
                pdu.hex(),
            )
            self.acknowledge(sequence)
            return
        try:
            self.on_deliver(self, decoded, sequence)
        except Exception:  # one bad PDU must never take the session down
            log.exception(
                "SMPP %s: deliver_sm handler failed; skipped: %s", self.config.where(), pdu.hex()
            )
            self.acknowledge(sequence)

    def acknowledge(self, sequence: int, status: int = 0) -> None:
        """Answer a deliver_sm (after what it said is stored); a closed session cannot."""
        if self.closed or self._transport is None or self._transport.is_closing():
            raise ProviderError(
                f"SMPP session to {self.config.where()} is closed",
                temporary=True,
                provider_code="not_connected",
            )
        body = b"\x00"  # message_id: empty, as SMPP 3.4 asks of a deliver_sm_resp
        self._write(build_pdu(Command.DELIVER_SM_RESP, sequence, body, status=status))

    # --- requests out -----------------------------------------------------------------

    def _write(self, pdu: bytes) -> None:
        # PDUs written in one turn of the loop leave in one send: a window refilled by 64
        # answers costs one system call, not 64, on both sides of the connection.
        self._outgoing.append(pdu)
        if len(self._outgoing) == 1:
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        outgoing, self._outgoing = self._outgoing, []
        if outgoing and self._transport is not None and not self._transport.is_closing():
            self._transport.write(b"".join(outgoing))

    def _next_sequence(self) -> int:
        self._sequence = self._sequence % 0x7FFFFFFF + 1
        return self._sequence

    async def _acquire(self) -> None:
        if self._slots > 0 and not self._slot_waiters:
            self._slots -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._slot_waiters.append(waiter)
        try:
            await waiter  # a slot is handed over with the result
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed over just as we were cancelled: pass it on
            raise

    def _release(self) -> None:
        """A slot is free: to a waiting `request`, else to the next batch PDU, else kept."""
        while self._slot_waiters:
            waiter = self._slot_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        if self._backlog and self._write_paused is None:
            self._send_next()
            return
        self._slots += 1

    async def request(self, pdu: bytes, *, timeout: float | None = None) -> Response:
        """Send `pdu` (its sequence is set here) within the window and await its response."""
        await self._acquire()
        if self.closed:
            self._release()
            raise self._not_connected()
        if self._write_paused is not None:
            await self._write_paused
            if self.closed:
                self._release()
                raise self._not_connected()
        loop = asyncio.get_running_loop()
        sequence = self._next_sequence()
        future: asyncio.Future[Response] = loop.create_future()
        timer = loop.call_later(timeout or self.config.timeout, self._expire, sequence)
        self._pending[sequence] = (future, timer)
        self._write(with_sequence(pdu, sequence))
        return await future

    def send_batch(
        self,
        pdus: Sequence[bytes],
        *,
        gate: Callable[[], bool] | None = None,
        on_refusal: Callable[[int], None] | None = None,
    ) -> asyncio.Future[list[BatchAnswer]]:
        """Send many PDUs through the window; a future of their answers, in order.

        No task or future per PDU: each waits in a queue and is written as soon as an
        answer frees a slot. `gate` is asked before each write; once it says no, the PDUs
        not yet written are answered None (the caller sends them its slower, paced way).
        `on_refusal` hears each non-zero command_status as it arrives (a throttle).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[BatchAnswer]] = loop.create_future()
        batch = _Batch(len(pdus), future, gate or _always, on_refusal)
        if not pdus:
            future.set_result([])
            return future
        if self.closed:
            for index in range(len(pdus)):
                batch.answer(index, None)
            return future
        backlog = self._backlog
        for index, pdu in enumerate(pdus):
            backlog.append((batch, index, pdu))
        while self._slots > 0 and backlog and self._write_paused is None:
            self._slots -= 1
            self._send_next()
        return future

    def _send_next(self) -> None:
        """Write the next batch PDU with the slot the caller holds (or give the slot back)."""
        backlog = self._backlog
        while backlog:
            batch, index, pdu = backlog.popleft()
            if not batch.gate():
                batch.answer(index, None)
                continue
            sequence = self._next_sequence()
            self._pending[sequence] = (batch, index)
            deadline = asyncio.get_running_loop().time() + self.config.timeout
            self._deadlines.append((deadline, sequence))
            if self._sweeper is None:
                self._sweeper = asyncio.get_running_loop().call_at(deadline, self._sweep)
            self._write(pdu[:12] + sequence.to_bytes(4, "big") + pdu[16:])
            return
        self._release()

    def _sweep(self) -> None:
        """Time out the batch PDUs whose deadline passed; wake again at the next deadline."""
        self._sweeper = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadlines = self._deadlines
        while deadlines:
            deadline, sequence = deadlines[0]
            if sequence not in self._pending:
                deadlines.popleft()  # answered
                continue
            if deadline > now:
                self._sweeper = loop.call_at(deadline, self._sweep)
                return
            deadlines.popleft()
            self._expire(sequence)

    def _not_connected(self) -> ProviderError:
        # Nothing was written: unlike `connection_lost`, retrying cannot duplicate.
        return ProviderError(
            f"SMPP session to {self.config.where()} is closed",
            temporary=True,
            provider_code="not_connected",
        )

    def _expire(self, sequence: int) -> None:
        entry = self._pending.pop(sequence, None)
        if entry is None:
            return
        error = ProviderError(
            f"no response from {self.config.where()} within {self.config.timeout:g} s",
            temporary=True,
            provider_code="timeout",
        )
        owner, detail = entry
        if type(owner) is _Batch:
            owner.answer(detail, error)
        elif not owner.done():
            owner.set_exception(error)
        self._release()

    @property
    def in_flight(self) -> int:
        """Requests waiting for their response."""
        return len(self._pending)

    # --- lifecycle --------------------------------------------------------------------

    async def open(self) -> None:
        """Connect and bind; a refused bind raises a `ProviderError` naming the status."""
        where = self.config.where()
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: self, self.config.host, self.config.port),
                self.config.timeout,
            )
        except (OSError, TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
            raise ProviderError(
                f"SMPP {where}: cannot connect ({reason})",
                temporary=True,
                provider_code="connect_failed",
            ) from None
        body = bind_body(
            system_id=self.config.system_id,
            password=self.config.password,
            system_type=self.config.system_type,
        )
        try:
            response = await self.request(build_pdu(_BIND_COMMANDS[self.kind], 0, body))
        except ProviderError as exc:
            self._abort()
            raise ProviderError(
                f"SMPP {where}: no answer to bind_{self.kind} ({exc.message})",
                temporary=True,
                provider_code=exc.provider_code,
            ) from None
        if response.command == Command.GENERIC_NACK or response.status != 0:
            self._abort()
            name = status_name(response.status)
            raise ProviderError(
                f"SMPP {where}: bind_{self.kind} as {self.config.system_id!r} refused: {name}",
                temporary=False,
                provider_code=name,
            )
        self.bound = True
        if self.config.enquire_link > 0:
            self._keepalive = loop.create_task(self._keep_alive())

    async def _keep_alive(self) -> None:
        while not self.closed:
            await asyncio.sleep(self.config.enquire_link)
            if self.closed:
                return
            try:
                await self.request(build_pdu(Command.ENQUIRE_LINK, 0))
            except ProviderError:
                if not self.closed:
                    log.warning("SMPP %s: enquire_link unanswered; closing", self.config.where())
                    self._abort()
                return

    async def close(self) -> None:
        """Let requests in flight finish (within the timeout), unbind, disconnect."""
        if self.closed:
            return
        deadline = asyncio.get_running_loop().time() + self.config.timeout
        while self._pending and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        if self.bound and self._transport is not None and not self._transport.is_closing():
            with contextlib.suppress(ProviderError):
                await self.request(
                    build_pdu(Command.UNBIND, 0), timeout=min(self.config.timeout, 2)
                )
        self.closed = True
        self._shut(reason="connection_lost", text="the session was closed")
        if self._transport is not None:
            self._transport.close()

    def _abort(self) -> None:
        """Drop the connection now (`connection_lost` follows from asyncio)."""
        if self._transport is not None:
            self._transport.abort()

    def _shut(self, *, reason: str, text: str) -> None:
        self.bound = False
        self.closed = True
        if self._keepalive is not None and self._keepalive is not asyncio.current_task():
            self._keepalive.cancel()
        pending, self._pending = self._pending, {}
        for owner, detail in pending.values():
            error = ProviderError(text, temporary=True, provider_code=reason)
            if type(owner) is _Batch:
                owner.answer(detail, error)
            else:
                detail.cancel()
                if not owner.done():
                    owner.set_exception(error)
            self._slots += 1
        backlog, self._backlog = self._backlog, deque()
        for batch, index, _pdu in backlog:
            batch.answer(index, None)  # never written: sending it again cannot duplicate
        self._deadlines.clear()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        waiters, self._slot_waiters = self._slot_waiters, deque()
        for waiter in waiters:  # they find the session closed
            if not waiter.done():
                waiter.set_result(None)
                self._slots -= 1
        if self._write_paused is not None and not self._write_paused.done():
            self._write_paused.set_result(None)


def _always() -> bool:
    return True
