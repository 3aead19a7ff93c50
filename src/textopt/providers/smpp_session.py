"""One SMPP session (an ESME bind) on asyncio: bind, a send window, keep-alive, unbind.

Requests are pipelined: up to `window` wait for their response at once, each matched by
sequence number and failed on its own timeout, so throughput follows the window rather
than the round trip. Inbound `deliver_sm` are acknowledged at once and handed to a callback.
A broken stream (a length that cannot be a PDU, a closed socket, a keep-alive left
unanswered) closes the session and fails what is in flight with `connection_lost`; the
provider above reconnects. Errors are `ProviderError`s carrying the SMPP status name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

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

__all__ = ["BindMode", "Response", "SessionConfig", "SmppSession"]

log = logging.getLogger(__name__)

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


DeliverCallback = Callable[["SmppSession", smpp34.DeliverSm], None]
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
        self._pending: dict[int, tuple[asyncio.Future[Response], asyncio.TimerHandle]] = {}
        self._sequence = 0
        self._window = asyncio.Semaphore(max(config.window, 1))
        self._keepalive: asyncio.Task[None] | None = None
        self._write_paused: asyncio.Future[None] | None = None
        self._outgoing: list[bytes] = []

    # --- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

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

    # --- PDUs in ----------------------------------------------------------------------

    def _handle(self, command: int, status: int, sequence: int, body: bytes, pdu: bytes) -> None:
        if command & 0x80000000:
            entry = self._pending.pop(sequence, None)
            if entry is None:
                return  # late, after its timeout: the provider already answered
            future, timer = entry
            timer.cancel()
            if not future.done():
                future.set_result(Response(command, status, body))
            self._window.release()
            return
        if command == Command.DELIVER_SM:
            self._write(build_pdu(Command.DELIVER_SM_RESP, sequence, b"\x00"))
            self._deliver(pdu)
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

    def _deliver(self, pdu: bytes) -> None:
        try:
            decoded = smpp34.decode(pdu)
        except smpp34.SmppError as exc:
            # Acknowledged anyway: a PDU we cannot read would be sent again forever.
            log.warning("SMPP %s: unreadable deliver_sm (%s) ignored", self.config.where(), exc)
            return
        if isinstance(decoded, smpp34.DeliverSm) and self.on_deliver is not None:
            try:
                self.on_deliver(self, decoded)
            except Exception:  # a bad receipt must never take the session down
                log.exception("SMPP %s: deliver_sm handler failed", self.config.where())

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

    async def request(self, pdu: bytes, *, timeout: float | None = None) -> Response:
        """Send `pdu` (its sequence is set here) within the window and await its response."""
        await self._window.acquire()
        if self.closed:
            self._window.release()
            raise self._not_connected()
        if self._write_paused is not None:
            await self._write_paused
            if self.closed:
                self._window.release()
                raise self._not_connected()
        loop = asyncio.get_running_loop()
        sequence = self._next_sequence()
        future: asyncio.Future[Response] = loop.create_future()
        timer = loop.call_later(timeout or self.config.timeout, self._expire, sequence)
        self._pending[sequence] = (future, timer)
        self._write(with_sequence(pdu, sequence))
        return await future

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
        future = entry[0]
        if not future.done():
            future.set_exception(
                ProviderError(
                    f"no response from {self.config.where()} within {self.config.timeout:g} s",
                    temporary=True,
                    provider_code="timeout",
                )
            )
        self._window.release()

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
        for future, timer in pending.values():
            timer.cancel()
            if not future.done():
                future.set_exception(ProviderError(text, temporary=True, provider_code=reason))
            self._window.release()
        if self._write_paused is not None and not self._write_paused.done():
            self._write_paused.set_result(None)
