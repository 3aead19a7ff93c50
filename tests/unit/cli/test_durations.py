"""Durations given on the command line (`--inactive-for 18m`...)."""

from __future__ import annotations

import datetime as dt

import pytest

from textopt.cli.common import parse_duration
from textopt.errors import ValidationError


def test_durations_in_days_weeks_months_and_years() -> None:
    assert parse_duration("90d", field="f") == dt.timedelta(days=90)
    assert parse_duration(" 6W ", field="f") == dt.timedelta(weeks=6)
    assert parse_duration("18m", field="f") == dt.timedelta(days=18 * 30)
    assert parse_duration("3y", field="f") == dt.timedelta(days=3 * 365)


@pytest.mark.parametrize("text", ["d", "12", "1.5d", "-3d", "\u00b2d", "9\u00b3w"])
def test_anything_else_is_refused_with_the_field(text: str) -> None:
    with pytest.raises(ValidationError, match="is not a duration like 90d") as error:
        parse_duration(text, field="inactive_for")
    assert error.value.field == "inactive_for"
