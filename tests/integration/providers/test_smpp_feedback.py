"""SMPP answers about numbers, from the node SMSC: ESME_RINVDSTADR at submission and a GSM
"unknown subscriber" in receipts count against the number (dispatch.feedback)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from tests.factories.campaigns import (
    WEDNESDAY_10H,
    add_contact,
    new_campaign,
    run_dispatcher,
    statuses,
)
from tests.factories.keys import TEST_DIGEST
from tests.servers.smsc import ESME_RINVDSTADR, Smsc

from textopt.campaigns import service as campaigns
from textopt.config import Settings
from textopt.db.engine import session_scope
from textopt.dispatch.feedback import get_number_failures

BAD = "+33612345670"
GOOD = "+33612345671"


def _campaign_on_day(engine: Engine, settings: Settings, day: int) -> int:
    at = WEDNESDAY_10H + dt.timedelta(days=day)
    with session_scope(engine) as s:
        campaign = new_campaign(s, settings)
        campaigns.launch(s, campaign=campaign, settings=settings, now=at)
        campaign_id = campaign.id
    run_dispatcher(engine, settings, at=at + dt.timedelta(minutes=1))
    return campaign_id


def _failures(engine: Engine, phone: str) -> tuple[int, bool, str | None]:
    with session_scope(engine) as s:
        found = get_number_failures(s, digest=TEST_DIGEST, phone=phone)
        if found is None:
            return 0, False, None
        return found.failures, found.undeliverable_at is not None, found.last_code


def test_an_invalid_destination_refusal_counts_against_the_number(
    engine: Engine, smpp_settings: Settings, smsc: Smsc
) -> None:
    smsc.configure(reject={BAD.removeprefix("+"): ESME_RINVDSTADR})
    with session_scope(engine) as s:
        add_contact(s, BAD)
        add_contact(s, GOOD)
    first = _campaign_on_day(engine, smpp_settings, 0)
    assert statuses(engine, first) == {
        BAD: ("failed", "provider_refused"),
        GOOD: ("delivered", None),
    }
    assert _failures(engine, BAD) == (1, False, "0x0B")
    assert _failures(engine, GOOD) == (0, False, None)
    _campaign_on_day(engine, smpp_settings, 1)
    assert _failures(engine, BAD) == (2, True, "0x0B")
    third = _campaign_on_day(engine, smpp_settings, 2)
    assert statuses(engine, third)[BAD] == ("blocked", "undeliverable")


def test_unknown_subscriber_receipts_count_in_a_row(
    engine: Engine, smpp_settings: Settings, smsc: Smsc
) -> None:
    # UNDELIV with the network_error_code TLV GSM (3) error 1, "unknown subscriber"
    smsc.configure(receipt_form="tlv", receipt_stat={BAD.removeprefix("+"): "UNDELIV"})
    with session_scope(engine) as s:
        add_contact(s, BAD)
    seen = []
    for day in range(2):
        campaign_id = _campaign_on_day(engine, smpp_settings, day)
        assert statuses(engine, campaign_id) == {BAD: ("failed", "receipt_failed")}
        seen.append(_failures(engine, BAD))
    assert seen == [(1, False, "3:1"), (2, True, "3:1")]
