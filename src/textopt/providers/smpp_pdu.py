"""SMPP 3.4 PDUs: framing, the few bodies we build by hand, and `submit_sm` via smpp34's codec.

smpp34's Rust codec encodes `submit_sm` and decodes `deliver_sm` (with every TLV, vendor
ones included); the session PDUs (bind, enquire_link, unbind, responses, generic_nack) are
a header and a few C strings, written here so that the session layer owns its framing.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import smpp34

__all__ = [
    "HEADER",
    "MAX_PDU_LENGTH",
    "TEMPORARY_STATUSES",
    "THROTTLE_STATUSES",
    "Command",
    "Header",
    "SubmitFields",
    "Tag",
    "bind_body",
    "build_pdu",
    "build_submit_sm",
    "pack_septets",
    "read_cstring",
    "status_name",
    "with_sequence",
]

HEADER = struct.Struct(">IIII")
MAX_PDU_LENGTH = 65536  # far above any real PDU: a longer one means the stream is garbage


class Command(IntEnum):
    """SMPP command ids (a response is the request's id with the high bit set)."""

    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015
    ALERT_NOTIFICATION = 0x00000102
    DATA_SM = 0x00000103


class Tag(IntEnum):
    """The TLV tags we read or write."""

    RECEIPTED_MESSAGE_ID = 0x001E
    SAR_MSG_REF_NUM = 0x020C
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    MESSAGE_STATE = 0x0427


_STATUS_NAMES = {
    0x00: "ESME_ROK",
    0x01: "ESME_RINVMSGLEN",
    0x02: "ESME_RINVCMDLEN",
    0x03: "ESME_RINVCMDID",
    0x04: "ESME_RINVBNDSTS",
    0x05: "ESME_RALYBND",
    0x08: "ESME_RSYSERR",
    0x0A: "ESME_RINVSRCADR",
    0x0B: "ESME_RINVDSTADR",
    0x0C: "ESME_RINVMSGID",
    0x0D: "ESME_RBINDFAIL",
    0x0E: "ESME_RINVPASWD",
    0x0F: "ESME_RINVSYSID",
    0x14: "ESME_RMSGQFUL",
    0x15: "ESME_RINVSERTYP",
    0x43: "ESME_RINVESMCLASS",
    0x45: "ESME_RSUBMITFAIL",
    0x48: "ESME_RINVSRCTON",
    0x49: "ESME_RINVSRCNPI",
    0x50: "ESME_RINVDSTTON",
    0x51: "ESME_RINVDSTNPI",
    0x53: "ESME_RINVSYSTYP",
    0x58: "ESME_RTHROTTLED",
    0x61: "ESME_RINVSCHED",
    0x62: "ESME_RINVEXPIRY",
    0x64: "ESME_RX_T_APPN",
    0x65: "ESME_RX_P_APPN",
    0x66: "ESME_RX_R_APPN",
    0xC0: "ESME_RINVOPTPARSTREAM",
    0xC1: "ESME_ROPTPARNOTALLWD",
    0xC2: "ESME_RINVPARLEN",
    0xFE: "ESME_RDELIVERYFAILURE",
    0xFF: "ESME_RUNKNOWNERR",
}

#: The SMSC asks us to slow down: the message is retried, never failed for this.
THROTTLE_STATUSES = frozenset({0x14, 0x58})
#: Worth another attempt later; every other non-zero status refuses the message for good.
TEMPORARY_STATUSES = THROTTLE_STATUSES | {0x04, 0x08, 0x45, 0x64, 0xFE, 0xFF}


def status_name(status: int) -> str:
    """The ESME_* name of a command_status, or its hex value for vendor codes."""
    return _STATUS_NAMES.get(status, f"0x{status:08X}")


@dataclass(frozen=True, slots=True)
class Header:
    """The 16-octet header every PDU starts with."""

    length: int
    command: int
    status: int
    sequence: int


def build_pdu(command: int, sequence: int, body: bytes = b"", *, status: int = 0) -> bytes:
    """A whole PDU: header (with its length) and body."""
    return HEADER.pack(16 + len(body), command, status, sequence) + body


def with_sequence(pdu: bytes, sequence: int) -> bytes:
    """`pdu` with its sequence number replaced (PDUs are encoded before a slot is known)."""
    return pdu[:12] + sequence.to_bytes(4, "big") + pdu[16:]


def _cstring(value: str, limit: int, name: str) -> bytes:
    raw = value.encode("ascii")
    if len(raw) >= limit:
        raise ValueError(f"SMPP {name} is {len(raw)} characters; at most {limit - 1}")
    return raw + b"\x00"


def bind_body(
    *,
    system_id: str,
    password: str,
    system_type: str = "",
    addr_ton: int = 0,
    addr_npi: int = 0,
    address_range: str = "",
) -> bytes:
    """The body of bind_transmitter, bind_receiver and bind_transceiver (SMPP v3.4)."""
    return (
        _cstring(system_id, 16, "system_id")
        + _cstring(password, 9, "password")
        + _cstring(system_type, 13, "system_type")
        + bytes((0x34, addr_ton, addr_npi))
        + _cstring(address_range, 41, "address_range")
    )


def read_cstring(body: bytes, offset: int = 0) -> str:
    """The C string at `offset` (to the NUL or the end), decoded leniently."""
    end = body.find(b"\x00", offset)
    raw = body[offset:] if end < 0 else body[offset:end]
    return raw.decode("latin-1")


@dataclass(frozen=True, slots=True)
class SubmitFields:
    """Addressing and options shared by every `submit_sm` of one account."""

    source_ton: int
    source_npi: int
    dest_ton: int
    dest_npi: int
    service_type: str = ""
    registered_delivery: int = 1  # a receipt on the final outcome


def build_submit_sm(
    fields: SubmitFields,
    *,
    source: str,
    destination: str,
    short_message: bytes,
    data_coding: int,
    esm_class: int = 0,
    tlvs: Sequence[tuple[int, bytes]] = (),
) -> bytes:
    """A `submit_sm` PDU with sequence 0 (set by the session with `with_sequence`)."""
    return bytes(
        smpp34.SubmitSm(
            source,
            destination,
            short_message,
            service_type=fields.service_type,
            source_addr_ton=fields.source_ton,
            source_addr_npi=fields.source_npi,
            dest_addr_ton=fields.dest_ton,
            dest_addr_npi=fields.dest_npi,
            esm_class=esm_class,
            registered_delivery=fields.registered_delivery,
            data_coding=data_coding,
            tlvs=[smpp34.Tlv(tag, value) for tag, value in tlvs],
        ).encode()
    )


def pack_septets(septets: bytes, *, fill_bits: int = 0) -> bytes:
    """GSM 03.38 septets packed 8 into 7 octets, after `fill_bits` zero bits (UDH alignment)."""
    value = 0
    bits = fill_bits
    out = bytearray()
    for septet in septets:
        value |= (septet & 0x7F) << bits
        bits += 7
        while bits >= 8:
            out.append(value & 0xFF)
            value >>= 8
            bits -= 8
    if bits:
        out.append(value & 0xFF)
    return bytes(out)
