"""`textopt message inspect`: readable report, --json, --jsonl, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from textopt.cli.main import app

runner = CliRunner()
TEXTOPT = Path(sys.executable).with_name("textopt")


def test_report_highlights_what_forces_ucs2() -> None:
    result = runner.invoke(app, ["message", "inspect", "C’est l’été"])
    assert result.exit_code == 0, result.output
    assert "UCS-2" in result.output
    assert "U+2019 RIGHT SINGLE" in result.output
    assert "with smart encoding 1 in GSM-7" in result.output


def test_report_suggests_accent_folding() -> None:
    result = runner.invoke(app, ["message", "inspect", "Fête"])
    assert result.exit_code == 0, result.output
    assert "With accent folding (--fold-accents): 1 segment in GSM-7" in result.output


def test_report_lists_parts_of_a_long_message() -> None:
    result = runner.invoke(app, ["message", "inspect", "a" * 200])
    assert result.exit_code == 0, result.output
    assert "1/2 (153 septets)" in result.output
    assert "2/2 (47 septets)" in result.output


def test_markup_in_the_text_is_shown_not_interpreted() -> None:
    result = runner.invoke(app, ["message", "inspect", "[bold]hi[/bold]"])
    assert result.exit_code == 0, result.output
    assert "[bold]hi[/bold]" in result.output


def test_json_output_has_the_analysis_fields() -> None:
    result = runner.invoke(app, ["message", "inspect", "--json", "--country", "FR", "ça"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["encoding"] == "UCS-2"
    assert (data["segments"], data["units"], data["per_segment"], data["characters"]) == (
        1,
        2,
        70,
        2,
    )
    assert data["non_gsm"][0]["char"] == "ç"
    assert data["non_gsm"][0]["positions"] == [0]
    assert data["parts"] == [{"index": 1, "total": 1, "reference": 0, "text": "ça", "units": 2}]
    assert data["cost"]["amount"] == "0.045"


def test_marketing_purpose_adds_brand_and_footer_to_the_count() -> None:
    result = runner.invoke(
        app,
        [
            "message",
            "inspect",
            "--json",
            "--purpose",
            "marketing",
            "--brand",
            "Boutique",
            "--stop-number",
            "36222",
            "x" * 140,
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["text"].endswith("\nSTOP au 36222")
    assert data["segments"] == 2


def test_jsonl_reads_one_string_per_line_and_reports_errors_per_line() -> None:
    stdin = '"Bonjour"\n"\\ud800"\n\n42\nnot json\n"C\\u2019est"\n'
    result = runner.invoke(app, ["message", "inspect", "--jsonl"], input=stdin)
    assert result.exit_code == 1  # some lines failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["line"] for line in lines] == [1, 2, 4, 5, 6]
    assert lines[0]["segments"] == 1
    assert "lone surrogate U+D800" in lines[1]["error"]
    assert "must be a JSON string" in lines[2]["error"]
    assert "not JSON" in lines[3]["error"]
    assert lines[4]["encoding"] == "UCS-2"
    assert lines[4]["smart"]["encoding"] == "GSM-7"


def test_jsonl_all_good_exits_zero() -> None:
    result = runner.invoke(app, ["message", "inspect", "--jsonl"], input='"a"\n"b"\n')
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 2


def test_jsonl_survives_invalid_utf8() -> None:
    result = runner.invoke(app, ["message", "inspect", "--jsonl"], input=b'"\xff"\n"ok"\n')
    assert result.exit_code == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert "not valid UTF-8" in first["error"]
    assert second["text"] == "ok"


def test_missing_text_is_a_usage_error() -> None:
    result = runner.invoke(app, ["message", "inspect"])
    assert result.exit_code == 2


@pytest.mark.parametrize(
    "text",
    ["", "\x00\x1b[31m", "😀" * 500, "e\u0301" * 100, "\r\n" * 90, "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "\u202e"],
)
def test_odd_inputs_never_traceback(text: str) -> None:
    result = runner.invoke(app, ["message", "inspect", text])
    assert result.exit_code == 0, result.output
    assert result.exception is None


def _run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "120"}
    return subprocess.run(
        [str(TEXTOPT), "message", "inspect", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_installed_command_reports_json() -> None:
    done = _run("--json", "Promo 10€ !")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["encoding"], data["units"]) == ("GSM-7", 12)


def test_installed_command_reports_invalid_utf8_argument_without_traceback() -> None:
    done = subprocess.run(
        [os.fsencode(TEXTOPT), b"message", b"inspect", b"caf\xe9"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert b"not valid UTF-8" in done.stderr
    assert b"Traceback" not in done.stderr


def test_installed_command_jsonl() -> None:
    done = _run("--jsonl", stdin=b'"a"\n"\\udc00"\n')
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    assert len(done.stdout.splitlines()) == 2
