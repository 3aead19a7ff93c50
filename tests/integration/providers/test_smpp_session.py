"""The SMPP provider against the node SMSC: binds, window, throttling, errors, reconnection."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from tests.servers.smsc import (
    ESME_RINVDSTADR,
    ESME_RMSGQFUL,
    ESME_RSYSERR,
    ESME_RTHROTTLED,
    Smsc,
    eventually,
    ignore,
    run_provider,
    smpp_account,
)

from textopt.errors import ConfigError, ProviderError
from textopt.providers import OutboundMessage, Receipt, SubmitOutcome, build_provider
from textopt.providers.smpp import SmppProvider


def _message(
    n: int, text: str = "Soldes -20% chez Boutique", to: str | None = None
) -> OutboundMessage:
    return OutboundMessage(n, f"key-{n}", to or f"+336{n:08d}", text)


def _provider(smsc: Smsc, **options: Any) -> SmppProvider:
    provider = build_provider("smpp-test", smpp_account(smsc, **options))
    assert isinstance(provider, SmppProvider)
    return provider


def test_a_wrong_password_fails_start_once_with_host_port_and_status(smsc: Smsc) -> None:
    provider = _provider(smsc, password="wrong")
    with pytest.raises(ProviderError) as caught:
        asyncio.run(provider.start(ignore))
    assert f"127.0.0.1:{smsc.port}" in caught.value.message
    assert "ESME_RINVPASWD" in caught.value.message
    assert caught.value.provider_code == "ESME_RINVPASWD"
    assert not caught.value.temporary
    assert [b["status"] for b in smsc.state()["binds"]] == [0x0E]  # one try, no loop


def test_an_unreachable_smsc_fails_start_with_a_clear_error(smsc: Smsc) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    provider = build_provider("smpp-test", smpp_account(smsc, port=closed_port))
    with pytest.raises(ProviderError, match=f"127.0.0.1:{closed_port}: cannot connect"):
        asyncio.run(provider.start(ignore))


def test_the_password_comes_from_the_environment_and_is_never_shown(
    smsc: Smsc, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = smpp_account(smsc, password_env="SMPP_TEST_PASSWORD")
    del account["password"]
    with pytest.raises(ConfigError, match="SMPP_TEST_PASSWORD"):
        build_provider("smpp-test", account)
    monkeypatch.setenv("SMPP_TEST_PASSWORD", "secret")
    provider = build_provider("smpp-test", account)
    assert isinstance(provider, SmppProvider)
    assert provider.options.password == "secret"
    assert "secret" not in repr(provider.options)
    with pytest.raises(ConfigError, match="'multipart'"):
        build_provider("smpp-test", smpp_account(smsc, multipart="both"))


def test_accepted_messages_carry_the_smsc_id_and_their_receipt(smsc: Smsc) -> None:
    results = []

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        results.extend(await provider.submit([_message(n) for n in range(30)]))
        await eventually(lambda: len(receipts) == 30)

    receipts = run_provider(smsc, body)
    assert [r.outcome for r in results] == [SubmitOutcome.ACCEPTED] * 30
    assert [r.message_id for r in results] == list(range(30))  # in order
    assert {r.provider_message_id for r in results} == {r.provider_message_id for r in receipts}
    assert {r.status for r in receipts} == {"delivered"}
    submit = smsc.state()["submits"][0]
    assert (submit["to"], submit["dest_ton"], submit["dest_npi"]) == ("33600000000", 1, 1)
    assert (submit["from"], submit["source_ton"], submit["source_npi"]) == ("BOUTIQUE", 5, 0)
    assert submit["registered_delivery"] == 1


def test_the_window_bounds_outstanding_submits_and_each_times_out_alone(smsc: Smsc) -> None:
    smsc.configure(resp_delay_ms=1500)  # answers come after the 1 s timeout
    results = []
    seen: list[int] = []

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        task = asyncio.create_task(provider.submit([_message(n) for n in range(25)]))
        await eventually(lambda: len(smsc.state()["submits"]) >= 10, timeout=0.5)
        await asyncio.sleep(0.2)
        seen.append(len(smsc.state()["submits"]))
        results.extend(await task)

    run_provider(smsc, body, window=10, timeout=1)
    assert seen == [10]  # ten outstanding, the rest waiting for a slot
    assert all(r.outcome == SubmitOutcome.TEMPORARY for r in results[:10])
    assert {r.error_code for r in results[:10]} == {"timeout"}


def test_throttling_retries_the_message_and_slows_the_account_down(smsc: Smsc) -> None:
    smsc.configure(throttle_first=3, throttle_status=ESME_RTHROTTLED)
    results = []
    pacers = []

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        results.extend(await provider.submit([_message(n) for n in range(3)]))
        pacers.append((provider.pacer.cuts, provider.pacer.paced))
        results.extend(await provider.submit([_message(n) for n in range(3, 6)]))

    run_provider(smsc, body, window=1)
    assert [r.outcome for r in results[:3]] == [SubmitOutcome.TEMPORARY] * 3
    assert all(r.throttled and r.error_code == "0x58" for r in results[:3])
    assert "ESME_RTHROTTLED" in (results[0].error_text or "")
    assert pacers[0][0] >= 1
    assert pacers[0][1]
    assert [r.outcome for r in results[3:]] == [SubmitOutcome.ACCEPTED] * 3


def test_a_full_queue_is_throttling_too(smsc: Smsc) -> None:
    smsc.configure(throttle_first=1, throttle_status=ESME_RMSGQFUL)
    results = []

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        results.extend(await provider.submit([_message(1)]))

    run_provider(smsc, body)
    assert results[0].outcome == SubmitOutcome.TEMPORARY
    assert results[0].throttled
    assert results[0].error_code == "0x14"


def test_refusals_map_to_permanent_or_temporary_with_the_status_kept(smsc: Smsc) -> None:
    smsc.configure(reject={"3399": ESME_RINVDSTADR, "3398": ESME_RSYSERR, "3397": 0x401})
    results = []

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        messages = [
            _message(n, to=f"+{prefix}1234567") for n, prefix in enumerate(("3399", "3398", "3397"))
        ]
        results.extend(await provider.submit(messages))

    run_provider(smsc, body)
    bad_number, system_error, vendor = results
    assert bad_number.outcome == SubmitOutcome.PERMANENT
    assert bad_number.error_code == "0x0B"
    assert "ESME_RINVDSTADR" in (bad_number.error_text or "")
    assert system_error.outcome == SubmitOutcome.TEMPORARY
    assert not system_error.throttled
    assert vendor.outcome == SubmitOutcome.PERMANENT
    assert vendor.error_code == "0x401"


def test_a_connection_dropped_mid_window_makes_in_flight_messages_temporary_then_reconnects(
    smsc: Smsc,
) -> None:
    smsc.configure(drop_after=5, resp_delay_ms=200)
    results = []
    after = []

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        results.extend(await provider.submit([_message(n) for n in range(8)]))
        await eventually(lambda: provider.binds[0].ready and provider.binds[0].connects == 2)
        after.extend(await provider.submit([_message(100)]))

    run_provider(smsc, body, window=10)
    assert {r.outcome for r in results} == {SubmitOutcome.TEMPORARY}
    assert {r.error_code for r in results} <= {"connection_lost", "not_connected"}
    assert "connection_lost" in {r.error_code for r in results}
    assert after[0].outcome == SubmitOutcome.ACCEPTED
    assert len(smsc.state()["binds"]) == 2


def test_an_unknown_command_from_the_smsc_is_nacked_and_the_session_goes_on(smsc: Smsc) -> None:
    smsc.configure(garbage="unknown_command", garbage_after=1)
    results = []

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        results.extend(await provider.submit([_message(n) for n in range(3)]))
        await eventually(lambda: smsc.state()["generic_nacks"] == 1)

    run_provider(smsc, body)
    assert [r.outcome for r in results] == [SubmitOutcome.ACCEPTED] * 3
    assert smsc.state()["generic_nacks"] == 1
    assert len(smsc.state()["binds"]) == 1


def test_a_garbled_stream_closes_the_session_and_a_new_one_is_bound(smsc: Smsc) -> None:
    smsc.configure(garbage="bad_length", garbage_after=1, resp_delay_ms=50)
    after = []

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        await provider.submit([_message(1)])
        await eventually(lambda: provider.binds[0].connects == 2 and provider.binds[0].ready)
        smsc.configure(garbage=None)
        after.extend(await provider.submit([_message(2)]))

    run_provider(smsc, body)
    assert after[0].outcome == SubmitOutcome.ACCEPTED
    assert len(smsc.state()["binds"]) == 2


def test_keep_alive_and_clean_unbind(smsc: Smsc) -> None:
    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        await eventually(lambda: smsc.state()["enquire_links"] >= 2)

    run_provider(smsc, body, enquire_link=0.05)
    state = smsc.wait_for(lambda s: s["unbinds"] == 1)
    assert state["enquire_links"] >= 2
    assert state["unbinds"] == 1


def test_transmitter_and_receiver_binds_send_on_one_and_receive_on_the_other(smsc: Smsc) -> None:
    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        await provider.submit([_message(n) for n in range(4)])
        await eventually(lambda: len(receipts) == 4)

    receipts = run_provider(smsc, body, bind="transmitter+receiver")
    assert sorted(b["kind"] for b in smsc.state()["binds"]) == ["receiver", "transmitter"]
    assert len(receipts) == 4


def test_several_binds_share_the_work(smsc: Smsc) -> None:
    smsc.configure(resp_delay_ms=20)

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        await provider.submit([_message(n) for n in range(40)])

    run_provider(smsc, body, binds=2, window=8)
    state = smsc.state()
    assert len(state["binds"]) == 2
    assert len({s["session"] for s in state["submits"]}) == 2


def test_a_batch_encodes_each_message_as_the_codec_does(smsc: Smsc) -> None:
    # Single-part messages of one text share an encoding; each keeps its own destination,
    # sender and text, in GSM-7 or UCS-2.
    texts = ["Soldes -20% chez Boutique", "Été : -20% 😀", "Soldes -20% chez Boutique"]
    messages = [
        OutboundMessage(n, f"key-{n}", f"+3361234{n:04d}", texts[n % 3], sender=sender)
        for n, sender in enumerate([None, "LUMIERE", None, "LUMIERE", "33612345678", None])
    ]
    results = []

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        results.extend(await provider.submit(messages))

    run_provider(smsc, body, window=4)
    assert [r.outcome for r in results] == [SubmitOutcome.ACCEPTED] * len(messages)
    submits = sorted(smsc.state()["submits"], key=lambda s: s["to"])
    assert [s["to"] for s in submits] == [m.recipient[1:] for m in messages]
    assert [s["from"] for s in submits] == [
        "BOUTIQUE", "LUMIERE", "BOUTIQUE", "LUMIERE", "33612345678", "BOUTIQUE"
    ]  # fmt: skip
    assert [s["data_coding"] for s in submits] == [0, 8, 0, 0, 8, 0]
    assert bytes.fromhex(submits[1]["body"]).decode("utf-16-be") == texts[1]
    assert [s["source_ton"] for s in submits[3:5]] == [5, 1]  # alphanumeric, then a number


def test_a_throttle_in_the_middle_of_a_batch_paces_the_rest(smsc: Smsc) -> None:
    smsc.configure(throttle_first=2, throttle_status=ESME_RTHROTTLED)
    results = []

    async def body(provider: SmppProvider, receipts: list[Receipt]) -> None:
        results.extend(await provider.submit([_message(n) for n in range(40)]))

    run_provider(smsc, body, window=2)
    assert [r.message_id for r in results] == list(range(40))  # one answer each, in order
    throttled = [r for r in results if r.outcome == SubmitOutcome.TEMPORARY]
    assert len(throttled) == 2
    assert all(r.throttled for r in throttled)
    assert all(r.outcome == SubmitOutcome.ACCEPTED for r in results if r not in throttled)
    assert len(smsc.state()["submits"]) == 40  # nothing sent twice
