"""The session acknowledges at once when it reads answers and has nothing to write back."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from textopt.providers.smpp_pdu import Command, SubmitFields, build_pdu, build_submit_sm
from textopt.providers.smpp_session import SessionConfig, SmppSession

pytestmark = pytest.mark.skipif(
    not hasattr(socket, "TCP_QUICKACK"), reason="TCP_QUICKACK is a Linux socket option"
)


class _Socket:
    def __init__(self) -> None:
        self.options: list[tuple[int, int, int]] = []

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self.options.append((level, option, value))


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.sock = _Socket()
        self.written: list[bytes] = []

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.sock if name == "socket" else default

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return False


def _pdu(destination: str) -> bytes:
    return build_submit_sm(
        SubmitFields(5, 0, 1, 1),
        source="SHOP",
        destination=destination,
        short_message=b"Hi",
        data_coding=0,
    )


def _answer(sequence: int) -> bytes:
    return build_pdu(Command.SUBMIT_SM_RESP, sequence, b"id-%d\x00" % sequence)


def _quick_acks(window: int, pdus: int, answered: int) -> tuple[int, int]:
    """(quick acknowledgements asked, PDUs written) after `answered` answers."""

    async def scenario() -> tuple[int, int]:
        session = SmppSession(
            SessionConfig(host="127.0.0.1", port=1, system_id="t", password="p", window=window),
            kind="transceiver",
        )
        transport = _Transport()
        session.connection_made(transport)
        session.send_batch([_pdu(f"3361234{n:04d}") for n in range(pdus)])
        await asyncio.sleep(0)  # the window's PDUs leave in one write
        for sequence in range(1, answered + 1):
            session.data_received(_answer(sequence))
            await asyncio.sleep(0)
        quick = (socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        written = sum(chunk.count(b"SHOP\x00") for chunk in transport.written)
        return transport.sock.options.count(quick), written

    return asyncio.run(scenario())


def test_answers_read_with_nothing_to_write_are_acknowledged_at_once() -> None:
    # Two in flight, nothing left to send: the first answer leaves one outstanding, so the
    # SMSC (which may wait for our ACK to send the next) is acknowledged at once.
    assert _quick_acks(window=2, pdus=2, answered=1) == (1, 2)


def test_no_quick_acknowledgement_while_pdus_carry_it_or_nothing_is_outstanding() -> None:
    # Window 1: each answer frees the slot for the next PDU, whose write carries the ACK.
    assert _quick_acks(window=1, pdus=3, answered=2) == (0, 3)
    # The last answer leaves nothing outstanding: nothing more to hurry.
    assert _quick_acks(window=2, pdus=2, answered=2) == (1, 2)
