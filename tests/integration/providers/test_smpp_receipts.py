"""Multipart SMS, encodings and delivery receipts through the SMPP provider and the node SMSC."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Engine, select
from tests.servers.smsc import Smsc, eventually, run_provider

from textopt.compose import encode_gsm, split_parts
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.providers import OutboundMessage, Receipt, SubmitOutcome
from textopt.providers.models import SmsPart
from textopt.providers.smpp import SmppProvider
from textopt.providers.smpp_pdu import pack_septets

LONG_GSM = "Soldes d'hiver chez Boutique : -20% sur tout le magasin jusqu'a dimanche. " * 4
LONG_UCS2 = "Soldes d’hiver : -20% sur tout ! " * 5  # the ’ forces UCS-2


def _message(n: int, text: str = "Bonjour") -> OutboundMessage:
    return OutboundMessage(n, f"key-{n}", f"+336{n:08d}", text)


def _send(smsc: Smsc, messages: list[OutboundMessage], *, wait: int = 0, **options: Any) -> tuple:
    results = []

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        results.extend(await provider.submit(messages))
        await eventually(lambda: len(receipts) >= wait)
        await asyncio.sleep(0.05)  # a duplicate would show up here

    receipts = run_provider(smsc, body, **options)
    return results, receipts


def test_a_long_gsm_message_goes_as_udh_parts_and_gets_one_receipt(
    smsc: Smsc, engine: Engine, settings: Settings
) -> None:
    results, receipts = _send(
        smsc, [_message(1, LONG_GSM)], wait=1, database_url=settings.database_url
    )
    parts = split_parts(LONG_GSM)
    submits = smsc.state()["submits"]
    assert len(submits) == len(parts) == 2
    references = {s["part"]["ref"] for s in submits}
    assert len(references) == 1
    for submit, part in zip(submits, parts, strict=True):
        assert submit["esm_class"] == 0x40
        assert submit["data_coding"] == 0
        assert (submit["part"]["total"], submit["part"]["seq"]) == (2, part.index)
        assert bytes.fromhex(submit["body"]) == encode_gsm(part.text)
    assert results[0].provider_message_id == submits[0]["id"]
    assert [(r.provider_message_id, r.status) for r in receipts] == [
        (submits[0]["id"], "delivered")
    ]
    assert receipts[0].raw["parts"] == 2
    with session_scope(engine) as s:
        stored = s.scalars(select(SmsPart).order_by(SmsPart.part_index)).all()
        assert [(p.part_id, p.message_key) for p in stored] == [
            (submits[0]["id"], submits[0]["id"]),
            (submits[1]["id"], submits[0]["id"]),
        ]


def test_sar_tlvs_instead_of_a_udh(smsc: Smsc, engine: Engine, settings: Settings) -> None:
    _send(
        smsc, [_message(1, LONG_GSM)], wait=1, multipart="sar", database_url=settings.database_url
    )
    submits = smsc.state()["submits"]
    assert [s["part"]["seq"] for s in submits] == [1, 2]
    assert {s["part"]["total"] for s in submits} == {2}
    assert {s["udh"] for s in submits} == {None}
    assert {s["esm_class"] for s in submits} == {0}


def test_ucs2_parts_are_utf16_with_data_coding_8(
    smsc: Smsc, engine: Engine, settings: Settings
) -> None:
    _send(smsc, [_message(1, LONG_UCS2)], wait=1, database_url=settings.database_url)
    submits = smsc.state()["submits"]
    parts = split_parts(LONG_UCS2)
    assert len(submits) == len(parts) > 1
    for submit, part in zip(submits, parts, strict=True):
        assert submit["data_coding"] == 8
        assert bytes.fromhex(submit["body"]).decode("utf-16-be") == part.text


def test_packed_gsm_puts_eight_septets_in_seven_octets(smsc: Smsc) -> None:
    _send(smsc, [_message(1, "hellohello")], wait=1, gsm_packing=True)
    body = bytes.fromhex(smsc.state()["submits"][0]["body"])
    assert body == bytes.fromhex("E8329BFD4697D9EC37")  # the textbook example of TS 23.038
    assert body == pack_septets(encode_gsm("hellohello"))


def test_a_multipart_message_fails_as_soon_as_one_part_fails(
    smsc: Smsc, engine: Engine, settings: Settings
) -> None:
    smsc.configure(part_stat={"2": "UNDELIV"})
    _, receipts = _send(smsc, [_message(1, LONG_GSM)], wait=1, database_url=settings.database_url)
    first_id = smsc.state()["submits"][0]["id"]
    assert [(r.provider_message_id, r.status) for r in receipts] == [(first_id, "failed")]
    assert receipts[0].error_code == "001"  # the text form's err field
    assert receipts[0].error_text == "UNDELIV"


@pytest.mark.parametrize("form", ["text", "tlv", "both"])
def test_receipts_in_text_tlv_or_both_forms_with_vendor_tlvs(smsc: Smsc, form: str) -> None:
    smsc.configure(receipt_form=form, vendor_tlvs=True, receipt_stat={"33600000002": "EXPIRED"})
    results, receipts = _send(smsc, [_message(n) for n in range(1, 4)], wait=3)
    by_id = {r.provider_message_id: r.status for r in receipts}
    assert by_id == {
        results[0].provider_message_id: "delivered",
        results[1].provider_message_id: "expired",
        results[2].provider_message_id: "delivered",
    }
    if form != "text":
        assert "0x1401" in receipts[0].raw["tlvs"]  # kept, not understood, not fatal


def test_a_receipt_before_its_submit_answer_is_matched(
    smsc: Smsc, engine: Engine, settings: Settings
) -> None:
    smsc.configure(receipts="before", resp_delay_ms=30)
    messages = [_message(1), _message(2, LONG_GSM), _message(3)]
    results, receipts = _send(smsc, messages, wait=3, database_url=settings.database_url)
    assert [r.outcome for r in results] == [SubmitOutcome.ACCEPTED] * 3
    assert sorted(r.provider_message_id for r in receipts) == sorted(
        r.provider_message_id or "" for r in results
    )


def test_message_id_zero_and_other_id_forms(smsc: Smsc) -> None:
    smsc.configure(id_start=0)
    results, receipts = _send(smsc, [_message(1), _message(2)], wait=2)
    assert results[0].provider_message_id == "0"
    assert {r.provider_message_id for r in receipts} == {"0", "1"}
    smsc.reset()
    smsc.configure(id_format="uuid", receipt_form="tlv")
    results, receipts = _send(smsc, [_message(3)], wait=1)
    assert receipts[0].provider_message_id == results[0].provider_message_id
    assert len(results[0].provider_message_id or "") == 36


def test_a_receipt_for_a_message_sent_on_an_earlier_connection(smsc: Smsc) -> None:
    smsc.configure(receipts="hold")
    results = []

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        results.extend(await provider.submit([_message(1)]))
        smsc.drop()
        await eventually(lambda: provider.binds[0].connects == 2 and provider.binds[0].ready)
        assert smsc.release() == 1
        await eventually(lambda: len(receipts) == 1)

    receipts = run_provider(smsc, body)
    assert [r.provider_message_id for r in receipts] == [results[0].provider_message_id]


def test_a_part_receipt_after_a_restart_finds_its_message_in_the_database(
    smsc: Smsc, engine: Engine, settings: Settings
) -> None:
    smsc.configure(receipts="hold")
    first = []

    async def send(provider: SmppProvider, receipts: list[Receipt]) -> None:
        first.extend(await provider.submit([_message(1, LONG_GSM)]))

    run_provider(smsc, send, database_url=settings.database_url)  # stops: the process "restarts"

    async def receive(provider: SmppProvider, receipts: list[Receipt]) -> None:
        await eventually(lambda: len(smsc.state()["sessions"]) == 1)
        assert smsc.release() == 2
        await eventually(lambda: len(receipts) == 1)
        await asyncio.sleep(0.05)

    receipts = run_provider(smsc, receive, database_url=settings.database_url)
    assert [(r.provider_message_id, r.status) for r in receipts] == [
        (first[0].provider_message_id, "delivered")
    ]
