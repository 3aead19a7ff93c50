"""CSV cells: would-be formulas are quoted on the way out, unquoted on the way in."""

from __future__ import annotations

import pytest

from textopt.contacts.csvfile import restore_cell, spreadsheet_cell


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "+33 6 12", "-", "+", "'=x"[1:]],
)
def test_formulas_are_quoted_and_restored(value: str) -> None:
    written = spreadsheet_cell(value)
    assert written == "'" + value
    assert restore_cell(written) == value


@pytest.mark.parametrize("value", ["+33612345678", "+13055550142", "Léa", "", "O'Brien", "'"])
def test_numbers_in_e164_and_plain_text_are_written_as_they_are(value: str) -> None:
    assert spreadsheet_cell(value) == value
    assert restore_cell(value) == value
