"""Log lines carry their fields twice: as `key=value` text and as attributes of the record."""

from __future__ import annotations

import logging

import pytest

from textopt.logs import log_event


def test_fields_are_in_the_text_and_on_the_record(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("textopt.test")
    with caplog.at_level(logging.INFO, logger="textopt.test"):
        log_event(logger, logging.INFO, "claimed", account="sms main", count=3)
    (record,) = caplog.records
    assert record.getMessage() == 'claimed account="sms main" count=3'
    assert vars(record)["event"] == "claimed"
    assert vars(record)["account"] == "sms main"
    assert vars(record)["count"] == 3


def test_a_field_named_like_a_record_attribute_is_refused() -> None:
    logger = logging.getLogger("textopt.test")
    with pytest.raises(ValueError, match="taken by logging itself: name"):
        log_event(logger, logging.ERROR, "oops", name="x")


def test_nothing_is_built_below_the_level(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("textopt.test")
    with caplog.at_level(logging.INFO, logger="textopt.test"):
        log_event(logger, logging.DEBUG, "polled", count=0)
    assert caplog.records == []
